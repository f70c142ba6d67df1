"""Wakes the mailer in the API process: a NOTIFY or a periodic poll delivers due e-mail,
in-process, or as a Celery task for the workers when a broker is configured."""

from __future__ import annotations

import logging
import threading

import psycopg

from greenplat.core.db import Database
from greenplat.core.notifications import mail
from greenplat.core.notifications.service import CHANNEL
from greenplat.core.settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS = 30.0


class MailDispatcher:
    """A listener thread; each wake-up delivers (retries and digests come with the polls)."""

    def __init__(self, db: Database, settings: Settings, *, poll_seconds: float = POLL_SECONDS):
        self.db, self.settings, self.poll_seconds = db, settings, poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="greenplat-mail", daemon=True)
        self._celery = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - the listener must outlive outages
                log.warning("mail listener failed (%s); reconnecting", exc)
                self._stop.wait(5.0)

    def _listen(self) -> None:
        with psycopg.connect(self.db.url, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                self._kick()
                list(conn.notifies(timeout=self.poll_seconds, stop_after=1))

    def _kick(self) -> None:
        if self.settings.broker_url:
            from greenplat.core.notifications.tasks import enqueue_deliver
            from greenplat.core.queue import make_celery

            if self._celery is None:
                self._celery = make_celery(self.settings)
            enqueue_deliver(self._celery, self.settings)
        else:
            mail.deliver(self.db, self.settings)
