"""The outbox: every change to a library is announced in the transaction that makes it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from greenplat.core.db import Connection
from greenplat.core.logging import request_id

Library = Literal["problems", "achievements", "experts"]
LIBRARIES: tuple[Library, ...] = ("problems", "achievements", "experts")
# NOTIFY is delivered only when the transaction commits, so listeners never see a change
# that was rolled back.
CHANNEL = "greenplat_outbox"
# A change whose indexing failed is retried with backoff this many times, then left for a person.
MAX_ATTEMPTS = 10
# Changes waiting longer than this mean the indexer is not keeping up.
LAG_WARNING_SECONDS = 300


def record_change(conn: Connection, library: Library, record_id: int, op: str = "upsert") -> None:
    """Write an outbox row for a changed record and wake the indexer after commit."""
    conn.execute(
        "INSERT INTO outbox (library, record_id, op) VALUES (%s, %s, %s)",
        (library, record_id, op),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, _payload(library)))


def record_changes(
    conn: Connection, library: Library, record_ids: list[int], op: str = "upsert"
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


@dataclass(frozen=True)
class OutboxHealth:
    """How the indexing of changes goes: the one definition doctor, /readyz, /metrics and
    `greenplat index status` report."""

    pending: int  # changes not yet indexed
    failing: int  # pending changes whose indexing failed at least once (retried with backoff)
    given_up: int  # failing changes past MAX_ATTEMPTS: no more retries, a person must look
    lag_seconds: float  # age of the oldest pending change (0 when none)

    @property
    def trouble(self) -> str | None:
        """What needs attention, or None when indexing keeps up."""
        if self.given_up:
            return f"{self.given_up} changes failed {MAX_ATTEMPTS} times and are no longer retried"
        if self.failing:
            return f"{self.failing} changes failed to index and wait for a retry"
        if self.lag_seconds > LAG_WARNING_SECONDS:
            return f"the oldest change waits {self.lag_seconds:.0f}s (over {LAG_WARNING_SECONDS}s)"
        return None

    def describe(self) -> str:
        return (
            f"{self.pending} pending, oldest {self.lag_seconds:.0f}s, {self.failing} failing,"
            f" {self.given_up} given up"
        )


def health(conn: Connection) -> dict[str, OutboxHealth]:
    """The outbox's health per library (every library, zeros when nothing waits)."""
    rows = conn.execute(
        "SELECT library, count(*) AS pending,"
        " count(*) FILTER (WHERE attempts > 0) AS failing,"
        " count(*) FILTER (WHERE attempts >= %s) AS given_up,"
        " coalesce(extract(epoch FROM now() - min(created_at)), 0) AS lag_seconds"
        " FROM outbox WHERE processed_at IS NULL GROUP BY library",
        (MAX_ATTEMPTS,),
    ).fetchall()
    found = {
        row["library"]: OutboxHealth(
            row["pending"], row["failing"], row["given_up"], float(row["lag_seconds"])
        )
        for row in rows
    }
    return {library: found.get(library, OutboxHealth(0, 0, 0, 0.0)) for library in LIBRARIES}


def total(parts: Iterable[OutboxHealth]) -> OutboxHealth:
    """The health of several libraries together."""
    items = list(parts)
    return OutboxHealth(
        sum(h.pending for h in items),
        sum(h.failing for h in items),
        sum(h.given_up for h in items),
        max((h.lag_seconds for h in items), default=0.0),
    )
