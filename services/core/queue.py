"""The Celery application: JSON messages, late acks, bounded retries, queues "index" and "import".

Tasks live with their service (greenplat.indexer.tasks, greenplat.core.interchange.tasks) as
shared tasks; this module only builds the app that carries them. A worker starts with
`celery -A greenplat.core.queue worker -Q index,import`: the app is built from the settings on
first access, never at import time. Matching runs inside the API request that asks for it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery
from kombu import Queue

from greenplat.core.logging import install_celery_hooks
from greenplat.core.settings import Settings, get_settings

INDEX_QUEUE = "index"
IMPORT_QUEUE = "import"
TASK_MODULES = [
    "greenplat.indexer.tasks",
    "greenplat.core.interchange.tasks",
    "greenplat.core.notifications.tasks",
]

# Every task takes these: a failure retries with exponential backoff (jittered, capped at five
# minutes), at most eight times, then the task fails for good and its error is recorded.
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def queue_name(settings: Settings, queue: str) -> str:
    """The broker-side name of a queue (settings.queue_prefix isolates shared brokers)."""
    return f"{settings.queue_prefix}{queue}"


def make_celery(settings: Settings) -> Celery:
    """A Celery app for these settings (broker settings.broker_url)."""
    if not settings.broker_url:
        raise ValueError("GREENPLAT_BROKER_URL is not set: tasks run in-process instead")
    index, imports = queue_name(settings, INDEX_QUEUE), queue_name(settings, IMPORT_QUEUE)
    app = Celery(
        "greenplat",
        broker=settings.broker_url,
        backend=settings.result_backend,
        include=TASK_MODULES,
        set_as_current=False,
    )
    transport: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")) and settings.queue_prefix:
        transport["global_keyprefix"] = settings.queue_prefix
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message at a time per process: a killed worker loses (and redelivers) only one.
        worker_prefetch_multiplier=1,
        task_queues=(Queue(index), Queue(imports)),
        task_default_queue=index,
        task_routes={
            "greenplat.indexer.*": {"queue": index},
            # e-mail is light and rare: the index workers carry it
            "greenplat.mail.*": {"queue": index},
            "greenplat.interchange.*": {"queue": imports},
        },
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport,
        task_ignore_result=settings.result_backend is None,
        worker_hijack_root_logger=False,
    )
    install_celery_hooks(settings)
    return app


@lru_cache(maxsize=1)
def _worker_app() -> Celery:
    app = make_celery(get_settings())
    app.set_current()
    app.set_default()
    return app


def __getattr__(name: str) -> Any:
    # `celery -A greenplat.core.queue` looks up the attribute "app": build it then, from the
    # process settings, so importing this module never reads the environment.
    if name == "app":
        return _worker_app()
    raise AttributeError(name)
