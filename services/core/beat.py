"""Celery beat for a scaled-out platform: `celery -A greenplat.core.beat beat` (one only).

The API hands outbox changes to the workers as they happen; beat adds a periodic drain, so
changes are indexed even when no API process is listening (imports by `greenplat` commands,
an API restart that missed a NOTIFY, rows waiting for a retry after a failure).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery

from greenplat.core.queue import INDEX_QUEUE, make_celery, queue_name
from greenplat.core.settings import Settings, get_settings

# Named, not imported: core does not import the indexer.
DRAIN_TASK = "greenplat.indexer.drain_outbox"
VERIFY_TASK = "greenplat.indexer.verify_index"
MAIL_TASK = "greenplat.mail.deliver"
DRAIN_EVERY_SECONDS = 30.0
MAIL_EVERY_SECONDS = 60.0
VERIFY_EVERY_SECONDS = 3600.0


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The periodic tasks beat sends."""
    return {
        "drain-outbox": {
            "task": DRAIN_TASK,
            "schedule": DRAIN_EVERY_SECONDS,
            # a drain still queued when the next one is due is superfluous
            "options": {"queue": queue_name(settings, INDEX_QUEUE), "expires": DRAIN_EVERY_SECONDS},
        },
        # e-mail retries after backoff and the daily digests, when no API process is listening
        "deliver-mail": {
            "task": MAIL_TASK,
            "schedule": MAIL_EVERY_SECONDS,
            "options": {"queue": queue_name(settings, INDEX_QUEUE), "expires": MAIL_EVERY_SECONDS},
        },
        # Catches drift no outbox row describes (an index restored from an old snapshot,
        # documents deleted by hand in the cluster).
        "verify-index": {
            "task": VERIFY_TASK,
            "schedule": VERIFY_EVERY_SECONDS,
            "options": {
                "queue": queue_name(settings, INDEX_QUEUE),
                "expires": VERIFY_EVERY_SECONDS,
            },
        },
    }


def make_beat(settings: Settings) -> Celery:
    """The Celery app with the beat schedule of these settings."""
    app = make_celery(settings)
    app.conf.beat_schedule = beat_schedule(settings)
    return app


@lru_cache(maxsize=1)
def _beat_app() -> Celery:
    return make_beat(get_settings())


def __getattr__(name: str) -> Any:
    # `celery -A greenplat.core.beat` looks up "app"; build it from the process settings then.
    if name == "app":
        return _beat_app()
    raise AttributeError(name)
