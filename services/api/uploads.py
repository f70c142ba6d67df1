"""Uploaded files: spooled to a temporary file with their own extension while being read.

Call these from a thread (a sync route, or run_in_threadpool), never on the event loop.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePath

import psycopg
from starlette.datastructures import UploadFile

from greenplat.core.db import on_commit
from greenplat.core.errors import InvalidInput
from greenplat.core.interchange import jobs
from greenplat.core.interchange.formats import FORMATS
from greenplat.core.interchange.models import ImportJobRead, JobMode
from greenplat.core.interchange.reading import Limits
from greenplat.core.permissions import Principal
from greenplat.platform import Platform


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


def start_import(
    *,
    conn: psycopg.Connection,
    platform: Platform,
    principal: Principal,
    library: str,
    mode: JobMode,
    upload: object,
) -> ImportJobRead:
    """Queue an import of an uploaded file; the job starts once the request has committed."""
    with saved(upload) as path:
        job = jobs.create(
            conn=conn,
            principal=principal,
            library=library,
            mode=mode,
            path=path,
            file_name=str(getattr(upload, "filename", "")),
            limits=Limits.of(platform.settings),
        )
    on_commit(conn, partial(platform.imports.start, job.id))
    return job
