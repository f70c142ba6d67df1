"""Celery tasks of the indexer (queue "index"). They take no objects, only small JSON values."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from celery import Celery, shared_task

from greenplat.core.queue import INDEX_QUEUE, RETRY_POLICY, queue_name
from greenplat.core.settings import Settings, get_settings
from greenplat.indexer import sync

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer
    from greenplat.platform import Platform

log = logging.getLogger(__name__)

DRAIN_TASK = "greenplat.indexer.drain_outbox"
VERIFY_TASK = "greenplat.indexer.verify_index"


class OutboxRowsFailed(Exception):
    """Some outbox rows failed; the retry picks them up once their backoff has passed."""


@lru_cache(maxsize=1)
def _platform() -> Platform:
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


def verify_and_repair(indexer: Indexer) -> dict[str, Any]:
    """Compare database and index, queue repairs for any drift and drain them at once."""
    report = indexer.verify(repair=True)
    if report["drift"] and not report["repaired"]:
        # With a broker, verify() only queues the repairs; this worker is the one to do them.
        report["repaired"], _ = sync.drain(indexer, batch_size=sync.BATCH_SIZE)
    return report


@shared_task(name=VERIFY_TASK, **RETRY_POLICY)
def verify_index() -> dict[str, Any]:
    """Periodic verification (sent by beat): repair whatever drifted."""
    report = verify_and_repair(_platform().indexer)
    log.info("index verification: drift %d, repaired %d", report["drift"], report["repaired"])
    return report


def enqueue_drain(app: Celery, settings: Settings) -> None:
    """Ask a worker to drain the outbox (called after commit, by the dispatcher)."""
    app.send_task(DRAIN_TASK, queue=queue_name(settings, INDEX_QUEUE))
