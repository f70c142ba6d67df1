"""Uploaded files: kept in a temporary file with their own extension while being read."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

from starlette.datastructures import UploadFile

from greenplat.core.errors import InvalidInput
from greenplat.core.interchange.formats import FORMATS, Row, read_rows


@contextmanager
def saved(upload: object) -> Iterator[Path]:
    """The uploaded file on disk, removed afterwards."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("请选择文件 / choose a file", field="file")
    suffix = PurePath(upload.filename).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"请上传 .jsonl、.csv 或 .xlsx 文件 / upload a .jsonl, .csv or .xlsx file ({suffix})",
            field="file",
        )
    with tempfile.TemporaryDirectory(prefix="greenplat-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                out.write(chunk)
        yield path


def rows_of(upload: object) -> list[Row]:
    """Every row of an uploaded interchange file (raises UnreadableFile when unreadable)."""
    with saved(upload) as path:
        return read_rows(path)
