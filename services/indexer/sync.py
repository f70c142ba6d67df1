"""Draining the outbox: claim a batch, index the records as they are now, mark the rows done.

Idempotent by construction: a row only says "look at record N again"; handling it reads the
record's current state and overwrites the index entry keyed by N (or removes it). Replaying a
row, or handling two rows for one record, writes the same thing. On PostgreSQL the index writes
commit with processed_at in one transaction, so a killed worker leaves no trace; on
Elasticsearch a replay after a crash overwrites what the crash left.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

import psycopg

from greenplat.core.db import Connection
from greenplat.core.outbox import LIBRARIES, MAX_ATTEMPTS
from greenplat.indexer.embedding import ModelNotReady

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer

log = logging.getLogger(__name__)

BATCH_SIZE = 128
APPLICATION_NAME = "greenplat-indexer"
# Key space of the per-record advisory locks (with the library's position added).
_RECORD_LOCK_BASE = 74_117_110


def claim(conn: Connection, batch_size: int, ids: list[int] | None = None) -> list[dict]:
    """Lock up to batch_size due outbox rows (others' locked rows are skipped, not waited on)."""
    only = " AND id = ANY(%(ids)s)" if ids is not None else ""
    return conn.execute(
        "SELECT id, library, record_id, op FROM outbox"
        " WHERE processed_at IS NULL AND available_at <= now() AND attempts < %(max)s"
        + only
        + " ORDER BY id LIMIT %(n)s FOR UPDATE SKIP LOCKED",
        {"ids": ids, "max": MAX_ATTEMPTS, "n": batch_size},
    ).fetchall()


def lock_records(conn: Connection, keys: list[tuple[str, int]]) -> None:
    """Serialise indexing of each record across workers, so an older read never lands last."""
    for library, record_id in sorted(keys):
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            (_RECORD_LOCK_BASE + LIBRARIES.index(library), record_id % 2_147_483_647),
        )


def _process(indexer: Indexer, conn: Connection, rows: list[dict]) -> None:
    keys = sorted({(row["library"], row["record_id"]) for row in rows})
    lock_records(conn, keys)
    by_library: dict[str, list[int]] = defaultdict(list)
    for library, record_id in keys:
        by_library[library].append(record_id)
    indexer.index_records(conn, dict(by_library))
    conn.execute(
        "UPDATE outbox SET processed_at = now(), attempts = attempts + 1, last_error = NULL"
        " WHERE id = ANY(%s)",
        ([row["id"] for row in rows],),
    )


def _record_failure(indexer: Indexer, ids: list[int], error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with indexer.db.session() as conn:
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s,"
            " available_at = now() + make_interval(secs => least(600, 2 ^ (attempts + 1)))"
            " WHERE id = ANY(%s) AND processed_at IS NULL",
            (message, ids),
        )


def drain_batch(indexer: Indexer, batch_size: int = BATCH_SIZE) -> tuple[int, int]:
    """Handle one batch; returns (rows processed, rows failed). (0, 0) means nothing was due."""
    rows: list[dict] = []
    try:
        with indexer.db.session() as conn:
            conn.execute("SELECT set_config('application_name', %s, true)", (APPLICATION_NAME,))
            rows = claim(conn, batch_size)
            if not rows:
                return 0, 0
            _process(indexer, conn, rows)
            return len(rows), 0
    except Exception as exc:  # noqa: BLE001 - isolated below, then recorded per row
        if not rows or isinstance(exc, psycopg.OperationalError):
            raise
        if isinstance(exc, ModelNotReady):
            # nothing indexes until the model is prepared: no use trying record by record
            _record_failure(indexer, [row["id"] for row in rows], exc)
            return 0, len(rows)
        log.warning("outbox batch of %d failed (%s); retrying record by record", len(rows), exc)
        batch_error = exc
    return _one_by_one(indexer, rows, batch_error)


def _one_by_one(indexer: Indexer, rows: list[dict], batch_error: Exception) -> tuple[int, int]:
    """After a failed batch: handle each record alone so one bad record holds back no other."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for row in rows:
        groups[(row["library"], row["record_id"])].append(row["id"])
    done = failed = 0
    for position, (key, ids) in enumerate(groups.items()):
        if position == 1 and failed and done == 0 and len(groups) > 2:
            # The first record failed alone too: most likely not one record's fault (search
            # cluster down, say). Rather than wait out every record's timeout, the rest take a
            # short backoff; a bad first record then only delays them by seconds.
            rest = [i for row_ids in list(groups.values())[1:] for i in row_ids]
            _record_failure(indexer, rest, batch_error)
            return done, failed + len(rest)
        try:
            with indexer.db.session() as conn:
                conn.execute("SELECT set_config('application_name', %s, true)", (APPLICATION_NAME,))
                claimed = claim(conn, len(ids), ids)
                if claimed:
                    _process(indexer, conn, claimed)
                done += len(claimed)
        except Exception as exc:  # noqa: BLE001 - recorded on the rows, reported by status
            log.error("indexing %s %s failed: %s", key[0], key[1], exc)
            _record_failure(indexer, ids, exc)
            failed += len(ids)
    return done, failed


def drain(
    indexer: Indexer, *, limit: int | None = None, batch_size: int = BATCH_SIZE
) -> tuple[int, int]:
    """Drain due outbox rows until none is left (or limit rows); returns (processed, failed)."""
    processed = failed = 0
    while limit is None or processed < limit:
        size = batch_size if limit is None else min(batch_size, limit - processed)
        done, bad = drain_batch(indexer, size)
        processed, failed = processed + done, failed + bad
        if done == 0 and bad == 0:
            break
    return processed, failed
