"""The `greenplat` command: one entry point that gathers each service's commands."""

from __future__ import annotations

import typer

from greenplat.api import cli as api_cli
from greenplat.api import ops_cli
from greenplat.indexer import cli as indexer_cli
from greenplat.matcher import cli as matcher_cli

app = typer.Typer(
    help="绿平台 greenplat — technology matching between problems, achievements and experts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
api_cli.register(app)
indexer_cli.register(app)
matcher_cli.register(app)
ops_cli.register(app)


def main() -> None:
    """Run the command line."""
    app()
