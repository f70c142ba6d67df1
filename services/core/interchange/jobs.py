"""Import jobs: a file is stored with its job, read row by row in batches, progress counted.

A request only checks the file (it opens, its sizes and declared rows are within the caps)
and stores it with a queued job; a worker (or a thread without a broker) runs the job. Each
batch of rows commits with the job's counts and its rejected rows, so a page polling the job
sees it advance, and a job killed half-way can run again from the start (imports upsert).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path, PurePath
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from greenplat.core import store
from greenplat.core.accounts import service as accounts
from greenplat.core.db import Connection, Database, one
from greenplat.core.errors import NotFound, Unauthorized
from greenplat.core.interchange.formats import Row, UnreadableFile, json_value
from greenplat.core.interchange.models import (
    FINAL_STATUSES,
    ImportJobRead,
    JobMode,
    RejectedRow,
    RejectedRowPage,
)
from greenplat.core.interchange.reading import Limits, check_file, open_rows
from greenplat.core.interchange.service import ImportReport, check_library, import_rows
from greenplat.core.permissions import Principal, Scope, require_any, scope_of

log = logging.getLogger(__name__)

BATCH_ROWS = 500
_COLUMNS = (
    "id, library, mode, file_name, status, rows_read, created, updated, rejected, error, "
    "created_at, started_at, finished_at"
)


def _require_mode(principal: Principal, mode: JobMode) -> None:
    if mode == "library":
        require_any(principal, "import", "run")
    else:
        require_any(principal, "achievement", "create")


def create(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    mode: JobMode,
    path: Path,
    file_name: str,
    limits: Limits,
) -> ImportJobRead:
    """A queued job for a file that opens within the caps (raises UnreadableFile if not)."""
    check_library(library)
    _require_mode(principal, mode)
    check_file(path, limits, library=library)
    row = one(
        conn,
        f"INSERT INTO import_jobs (library, mode, file_name, content, user_id) "
        f"VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (library, mode, PurePath(file_name).name, path.read_bytes(), principal.id),
    )
    return ImportJobRead(**row)


def create_local(
    *, conn: Connection, principal: Principal, library: str, file_name: str
) -> ImportJobRead:
    """A queued job for a file the caller reads itself (the command line: no stored copy)."""
    check_library(library)
    _require_mode(principal, "library")
    row = one(
        conn,
        f"INSERT INTO import_jobs (library, file_name, user_id) VALUES (%s, %s, %s) "
        f"RETURNING {_COLUMNS}",
        (library, file_name, principal.id),
    )
    return ImportJobRead(**row)


def _visible_row(conn: Connection, principal: Principal, job_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {_COLUMNS}, user_id FROM import_jobs WHERE id = %s", (job_id,)
    ).fetchone()
    # A job is its starter's; platform admins see every job. Others learn nothing of it.
    mine = row is not None and principal.id is not None and row["user_id"] == principal.id
    if row is None or not (mine or Scope.ALL in scope_of(principal, "import", "run")):
        raise NotFound(f"导入任务 {job_id} 不存在 / import job {job_id} not found")
    return row


def get_or_raise(*, conn: Connection, principal: Principal, job_id: int) -> ImportJobRead:
    """The job, if the principal started it (or sees every job); else NotFound."""
    return ImportJobRead(**_visible_row(conn, principal, job_id))


def list_recent(*, conn: Connection, principal: Principal, limit: int = 10) -> list[ImportJobRead]:
    """The principal's own latest import jobs, newest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM import_jobs WHERE user_id = %s ORDER BY id DESC LIMIT %s",
        (principal.id, limit),
    ).fetchall()
    return [ImportJobRead(**r) for r in rows]


def rejections(
    *, conn: Connection, principal: Principal, job_id: int, page: int, page_size: int
) -> RejectedRowPage:
    """One page of the job's rejected rows, by line."""
    _visible_row(conn, principal, job_id)
    rows, total = store.fetch_page(
        conn,
        "import_rejections",
        where=["p.job_id = %s"],
        params=[job_id],
        order=sql.SQL("ORDER BY p.line"),
        page=page,
        page_size=page_size,
    )
    items = [RejectedRow(**{k: r[k] for k in RejectedRow.model_fields}) for r in rows]
    return RejectedRowPage(items=items, total=total, page=page, page_size=page_size)


def iter_rejections(
    *, conn: Connection, principal: Principal, job_id: int
) -> Iterator[RejectedRow]:
    """Every rejected row of the job, by line, streamed from a server-side cursor."""
    _visible_row(conn, principal, job_id)
    with conn.cursor(name=f"import_rejections_{job_id}") as cur:
        cur.execute(
            "SELECT line, reason, field, original FROM import_rejections WHERE job_id = %s"
            " ORDER BY line",
            (job_id,),
        )
        for row in cur:
            yield RejectedRow(**row)


def _start(conn: Connection, job_id: int) -> dict[str, Any] | None:
    # A job run again (a worker died) starts over: its rows upsert, its counts restart.
    conn.execute("DELETE FROM import_rejections WHERE job_id = %s", (job_id,))
    conn.execute("DELETE FROM import_job_notes WHERE job_id = %s", (job_id,))
    return conn.execute(
        "UPDATE import_jobs SET status = 'running', started_at = now(), rows_read = 0, "
        "created = 0, updated = 0, rejected = 0, error = NULL "
        "WHERE id = %s AND status NOT IN ('done', 'failed') RETURNING library, mode",
        (job_id,),
    ).fetchone()


def _record(conn: Connection, job_id: int, rows: int, report: ImportReport) -> None:
    conn.execute(
        "UPDATE import_jobs SET rows_read = rows_read + %s, created = created + %s, "
        "updated = updated + %s, rejected = rejected + %s WHERE id = %s",
        (rows, report.created, report.updated, len(report.rejected), job_id),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO import_rejections (job_id, line, reason, field, original)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(job_id, r.line, r.reason, r.field, _original(r.original)) for r in report.rejected],
        )
        cur.executemany(
            "INSERT INTO import_job_notes (job_id, kind, line, note) VALUES (%s, %s, %s, %s)",
            [(job_id, kind, line, Jsonb(note)) for kind, line, note in _notes(report)],
        )


def _original(values: dict[str, Any] | None) -> Jsonb | None:
    # Cells as JSON: dates and decimals as the export writes them.
    if values is None:
        return None
    return Jsonb({str(k): json_value(v) for k, v in values.items()})


def _notes(report: ImportReport) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for line, m in report.mapped:
        yield "mapped", line, {"field": m.field, "given": m.given, "value": m.value}
    for line, r in report.unknown:
        yield "unknown", line, {"kind": r.kind, "given": r.given, "closest": list(r.closest)}
    for line, s in report.duplicates:
        yield "duplicate", line, {"external_id": s.external_id, "title": s.title, "score": s.score}


def notes(
    *, conn: Connection, principal: Principal, job_id: int, limit: int = 200
) -> dict[str, list[dict[str, Any]]]:
    """The job's mapped and unknown values tallied (most rows first), and its duplicates."""
    _visible_row(conn, principal, job_id)
    mapped = conn.execute(
        "SELECT note->>'field' AS field, note->>'given' AS given, note->>'value' AS value, "
        "count(*) AS count FROM import_job_notes WHERE job_id = %s AND kind = 'mapped' "
        "GROUP BY 1, 2, 3 ORDER BY count DESC, given LIMIT %s",
        (job_id, limit),
    ).fetchall()
    unknown = conn.execute(
        "SELECT note->>'kind' AS kind, note->>'given' AS given, count(*) AS count, "
        "(array_agg(note->'closest'))[1] AS closest FROM import_job_notes "
        "WHERE job_id = %s AND kind = 'unknown' GROUP BY 1, 2 ORDER BY count DESC, given LIMIT %s",
        (job_id, limit),
    ).fetchall()
    found = conn.execute(
        "SELECT line, note FROM import_job_notes WHERE job_id = %s AND kind = 'duplicate' "
        "ORDER BY line LIMIT %s",
        (job_id, limit),
    ).fetchall()
    duplicates = [{"line": r["line"], **r["note"]} for r in found]
    return {"mapped": mapped, "unknown": unknown, "duplicates": duplicates}


def _finish(conn: Connection, job_id: int, error: str | None) -> None:
    conn.execute(
        "UPDATE import_jobs SET status = %s, error = %s, finished_at = now(), content = NULL "
        "WHERE id = %s",
        ("failed" if error else "done", error, job_id),
    )


def _batches(rows: Iterator[Row]) -> Iterator[list[Row]]:
    while batch := list(islice(rows, BATCH_ROWS)):
        yield batch


def run(
    db: Database,
    *,
    job_id: int,
    path: Path,
    principal: Principal,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Read the file and import it batch by batch, each batch committed with its progress."""
    with db.session() as conn:
        job = _start(conn, job_id)
    if job is None:
        return  # finished already (a redelivered task)
    seen: dict[str, int] = {}
    try:
        with open_rows(path, limits, library=job["library"]) as rows:
            for batch in _batches(rows):
                with db.session() as conn:
                    report = import_rows(
                        conn=conn,
                        principal=principal,
                        library=job["library"],
                        rows=batch,
                        mode=job["mode"],
                        seen=seen,
                    )
                    _record(conn, job_id, len(batch), report)
                if progress is not None:
                    progress(len(batch))
    except UnreadableFile as e:
        with db.session() as conn:
            _finish(conn, job_id, e.message)
        return
    with db.session() as conn:
        _finish(conn, job_id, None)


def run_stored(db: Database, limits: Limits, job_id: int) -> None:
    """Run a job whose file was stored with it, as the account that started it."""
    with db.session() as conn:
        row = conn.execute(
            "SELECT file_name, content, user_id, status FROM import_jobs WHERE id = %s",
            (job_id,),
        ).fetchone()
        if row is None or row["status"] in FINAL_STATUSES or row["content"] is None:
            return
        try:
            principal = accounts.principal_for_user(conn=conn, user_id=row["user_id"])
        except Unauthorized as e:
            _finish(conn, job_id, e.message)
            return
    with tempfile.TemporaryDirectory(prefix="greenplat-import-") as folder:
        path = Path(folder) / f"upload{PurePath(row['file_name']).suffix.lower()}"
        path.write_bytes(row["content"])
        del row  # the file's bytes need not stay in memory while the job runs
        run(db, job_id=job_id, path=path, principal=principal, limits=limits)


def fail(db: Database, job_id: int, message: str) -> None:
    """Mark a job failed for a reason outside its file (the worker gave up on it)."""
    with db.session() as conn:
        _finish(conn, job_id, message)
