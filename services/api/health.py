"""Checks of each component the platform depends on, shared by /readyz and `greenplat doctor`."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from functools import partial
from urllib.parse import urlsplit, urlunsplit

from greenplat.core import migrate, outbox
from greenplat.core.db import one
from greenplat.platform import Platform

# A probe must answer before the kubelet gives up on it (8 s in deploy/k8s).
CHECK_TIMEOUT = 4.0


@dataclass(frozen=True)
class Check:
    """The state of one component: ok or not, what was seen, and what to do about it."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def redact(url: str) -> str:
    """A URL without its password, fit for logs and responses."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_database(platform: Platform) -> Check:
    """The database answers with its schema up to date; the detail adds the outbox's health
    (reported, not judged: an indexing backlog must not take API replicas out of service)."""
    with platform.db.pool.connection(timeout=CHECK_TIMEOUT) as conn:
        version = one(conn, "SHOW server_version")["server_version"]
        table = one(conn, "SELECT to_regclass('schema_migrations') AS t")["t"]
        rows = conn.execute("SELECT version FROM schema_migrations").fetchall() if table else []
        applied = {row["version"] for row in rows}
        pending = [v for v, _ in migrate.migration_files() if v not in applied]
        state = None if pending else outbox.total(outbox.health(conn).values())
        conn.rollback()
    if state is None:
        return Check(
            "database",
            False,
            f"PostgreSQL {version}; migrations not applied: {', '.join(pending)}",
            "run `greenplat db upgrade` against this database",
        )
    return Check(
        "database", True, f"PostgreSQL {version}, schema up to date; outbox {state.describe()}"
    )


def check_search(platform: Platform) -> Check:
    backend = platform.settings.effective_search_backend
    platform.indexer.ping()
    where = redact(platform.settings.es_url or "") if backend == "elasticsearch" else "PostgreSQL"
    return Check("search", True, f"{backend} backend answers ({where})")


def check_broker(platform: Platform) -> Check:
    return check_broker_url(platform.settings.broker_url)


def check_broker_url(url: str | None) -> Check:
    """The broker check on its own (the doctor runs it even when the database is down)."""
    if not url:
        return Check("broker", True, "no broker: tasks run in-process (GREENPLAT_BROKER_URL unset)")
    from kombu import Connection

    with Connection(url, connect_timeout=CHECK_TIMEOUT) as connection:
        # max_retries=0: one attempt; readiness must answer now, not after a retry loop.
        connection.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT)
    return Check("broker", True, f"{redact(url)} accepts connections")


_HINTS = {
    "database": "check GREENPLAT_DATABASE_URL and that PostgreSQL is up and reachable",
    "search": "check GREENPLAT_ES_URL and the Elasticsearch cluster health, "
    "or set GREENPLAT_SEARCH_BACKEND=postgres",
    "broker": "check GREENPLAT_BROKER_URL and that Redis/RabbitMQ is up and reachable",
    "outbox": "run `greenplat db upgrade`, then `greenplat index status` for details",
    "workers": "start: celery -A greenplat.core.queue worker -Q index",
}
CHECKS: dict[str, Callable[[Platform], Check]] = {
    "database": check_database,
    "search": check_search,
    "broker": check_broker,
}


def run_check(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; an exception means the component is down, with the usual hint."""
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is "not ready"
        first_line = (str(exc).strip().splitlines() or [""])[0]
        result = Check(name, False, f"{type(exc).__name__}: {first_line}"[:300], _HINTS[name])
    seconds = round(time.perf_counter() - started, 3)
    return Check(result.name, result.ok, result.detail, result.hint, seconds)


def run_checks(platform: Platform, timeout: float = CHECK_TIMEOUT + 1) -> list[Check]:
    """Every check, concurrently; one that does not answer within timeout counts as down."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="greenplat-check")
    futures = {
        name: pool.submit(run_check, name, partial(fn, platform)) for name, fn in CHECKS.items()
    }
    deadline = time.monotonic() + timeout
    results = []
    for name, future in futures.items():
        try:
            results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            results.append(Check(name, False, f"no answer within {timeout:.0f}s", _HINTS[name]))
    # A hung check keeps its thread; it must not hold up the answer.
    pool.shutdown(wait=False, cancel_futures=True)
    return results
