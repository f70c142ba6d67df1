"""Celery tasks of the indexer (queue "index"). They take no objects, only small JSON values."""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Celery, shared_task

from greenplat.core.queue import INDEX_QUEUE, RETRY_POLICY, queue_name
from greenplat.core.settings import Settings, get_settings
from greenplat.indexer import sync

log = logging.getLogger(__name__)

DRAIN_TASK = "greenplat.indexer.drain_outbox"


class OutboxRowsFailed(Exception):
    """Some outbox rows failed; the retry picks them up once their backoff has passed."""


@lru_cache(maxsize=1)
def _platform():
    # One platform per worker process, opened on its first task (after the pool forked).
    from greenplat.platform import open_platform

    return open_platform(get_settings())


@shared_task(name=DRAIN_TASK, **RETRY_POLICY)
def drain_outbox(batch_size: int = sync.BATCH_SIZE) -> int:
    """Drain every due outbox row, batch by batch, each batch in its own transaction."""
    processed, failed = sync.drain(_platform().indexer, batch_size=int(batch_size))
    log.info("drained %d outbox rows (%d failed)", processed, failed)
    if failed:
        raise OutboxRowsFailed(f"{failed} outbox rows failed")
    return processed


def enqueue_drain(app: Celery, settings: Settings) -> None:
    """Ask a worker to drain the outbox (called after commit, by the dispatcher)."""
    app.send_task(DRAIN_TASK, queue=queue_name(settings, INDEX_QUEUE))
