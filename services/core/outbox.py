"""The outbox: every change to a library is announced in the transaction that makes it."""

from __future__ import annotations

from typing import Literal

import psycopg

from greenplat.core.logging import request_id

Library = Literal["problems", "achievements", "experts"]
LIBRARIES: tuple[str, ...] = ("problems", "achievements", "experts")
# NOTIFY is delivered only when the transaction commits, so listeners never see a change
# that was rolled back.
CHANNEL = "greenplat_outbox"


def record_change(
    conn: psycopg.Connection, library: Library, record_id: int, op: str = "upsert"
) -> None:
    """Write an outbox row for a changed record and wake the indexer after commit."""
    conn.execute(
        "INSERT INTO outbox (library, record_id, op) VALUES (%s, %s, %s)",
        (library, record_id, op),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, _payload(library)))


def record_changes(
    conn: psycopg.Connection, library: Library, record_ids: list[int], op: str = "upsert"
) -> None:
    """record_change for many records at once (imports)."""
    if not record_ids:
        return
    conn.execute(
        "INSERT INTO outbox (library, record_id, op) SELECT %s, unnest(%s::bigint[]), %s",
        (library, record_ids, op),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, _payload(library)))


def _payload(library: str) -> str:
    # "library request-id": the drain the notification starts logs under the same request id
    rid = request_id.get()
    return f"{library} {rid}" if rid else library


def notify_request_id(payload: str) -> str | None:
    """The request id a NOTIFY payload carries, if any."""
    _, _, rid = payload.partition(" ")
    return rid or None
