"""Options every `greenplat` command shares, and the settings they select."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from greenplat.core.settings import Settings

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="GREENPLAT_DATA_DIR",
        help="Folder of the embedded platform (database and state); separate folders never mix.",
    ),
]


def settings_for(data_dir: Path | None) -> Settings:
    """Settings from the environment, with --data-dir taking precedence."""
    if data_dir is None:
        return Settings()
    return Settings(data_dir=data_dir.expanduser().resolve())
