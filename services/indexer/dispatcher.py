"""Reacts to outbox NOTIFYs in the API process: drain in-process, or hand off to Celery."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import TupleRow

from greenplat.core.logging import bound_request_id
from greenplat.core.outbox import CHANNEL, notify_request_id
from greenplat.indexer.embedding import limit_torch_threads

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer

log = logging.getLogger(__name__)

POLL_SECONDS = 30.0  # safety net: a NOTIFY lost while reconnecting is caught by this poll
WAKE_SECONDS = 1.0  # how often the listener checks whether it should stop


class Dispatcher:
    """A listener thread: each NOTIFY (and each poll that finds due rows) triggers a drain."""

    def __init__(self, indexer: Indexer, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.indexer = indexer
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="greenplat-outbox", daemon=True)
        self._celery = None
        self.kicks = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        if not self.indexer.settings.broker_url:
            # Drains embed passages on this thread, beside the requests: leave them cores.
            limit_torch_threads(self.indexer.settings.effective_embed_threads)
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._listen()
                delay = 1.0
            except Exception as exc:  # noqa: BLE001 - the listener must outlive outages
                log.warning("outbox listener failed (%s); reconnecting in %.0fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 60.0)

    def _listen(self) -> None:
        with psycopg.connect(self.indexer.db.url, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self._kick()  # catch up on whatever arrived while nobody listened
            last_poll = time.monotonic()
            while not self._stop.is_set():
                notes = list(conn.notifies(timeout=WAKE_SECONDS, stop_after=1))
                woke = bool(notes)
                if woke or time.monotonic() - last_poll >= self.poll_seconds:
                    if woke or self._due(conn):
                        # the drain carries the request id of the change that woke it
                        rid = notify_request_id(notes[-1].payload) if notes else None
                        with bound_request_id(rid):
                            self._kick()
                    last_poll = time.monotonic()

    def _due(self, conn: psycopg.Connection[TupleRow]) -> bool:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE processed_at IS NULL"
            " AND available_at <= now())"
        ).fetchone()
        return bool(row and row[0])

    def _kick(self) -> None:
        self.kicks += 1
        settings = self.indexer.settings
        if settings.broker_url:
            from greenplat.core.queue import make_celery
            from greenplat.indexer.tasks import enqueue_drain

            if self._celery is None:
                self._celery = make_celery(settings)
            enqueue_drain(self._celery, settings)
        else:
            self.indexer.sync_pending()
