"""Celery task of the mailer; it rides the "index" queue the workers already serve."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from celery import Celery, shared_task

from greenplat.core.notifications import mail
from greenplat.core.queue import INDEX_QUEUE, RETRY_POLICY, queue_name
from greenplat.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from greenplat.core.db import Database

log = logging.getLogger(__name__)

DELIVER_TASK = "greenplat.mail.deliver"


class MailFailed(Exception):
    """Some e-mails failed; the task's retry (and the outbox's backoff) tries them again."""


@lru_cache(maxsize=1)
def _database() -> Database:
    from greenplat.core.db import open_database

    return open_database(get_settings(), upgrade=False)


@shared_task(name=DELIVER_TASK, **RETRY_POLICY)
def deliver() -> int:
    """Write due e-mails into the outbox and send them."""
    sent, failed = mail.deliver(_database(), get_settings())
    log.info("sent %d e-mails (%d failed)", sent, failed)
    if failed:
        raise MailFailed(f"{failed} e-mails failed")
    return sent


def enqueue_deliver(app: Celery, settings: Settings) -> None:
    """Ask a worker to deliver (called by the API's mail listener)."""
    app.send_task(DELIVER_TASK, queue=queue_name(settings, INDEX_QUEUE))
