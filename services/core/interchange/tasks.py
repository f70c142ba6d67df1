"""Running import jobs: a Celery task (queue "import") with a broker, else a thread."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from celery import Celery, Task, shared_task

from greenplat.core.db import Database, open_database
from greenplat.core.interchange import jobs
from greenplat.core.interchange.reading import Limits
from greenplat.core.queue import IMPORT_QUEUE, RETRY_POLICY, queue_name
from greenplat.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

RUN_TASK = "greenplat.interchange.run_import"
STOPPED = "导入中断，请重新导入 / the import stopped; run it again"


@lru_cache(maxsize=1)
def _database() -> Database:
    # One pool per worker process, opened on its first task (after the pool forked).
    return open_database(get_settings())


@shared_task(name=RUN_TASK, bind=True, **RETRY_POLICY)
def run_import(self: Task, job_id: int) -> None:
    """Run one stored import job (idempotent: a finished job is left alone)."""
    try:
        jobs.run_stored(_database(), Limits.of(get_settings()), int(job_id))
    except Exception:
        if self.request.retries >= self.max_retries:
            # The last attempt: the job must not look as if it were still running.
            jobs.fail(_database(), int(job_id), STOPPED)
        raise


class ImportRunner:
    """Starts import jobs after the commit that queued them."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._celery: Celery | None = None

    def start(self, job_id: int) -> None:
        """Hand the job to a worker, or run it in a thread of this process without a broker."""
        if self.settings.broker_url:
            from greenplat.core.queue import make_celery

            if self._celery is None:
                self._celery = make_celery(self.settings)
            self._celery.send_task(
                RUN_TASK, args=[job_id], queue=queue_name(self.settings, IMPORT_QUEUE)
            )
            return
        threading.Thread(
            target=self._run, args=(job_id,), name=f"greenplat-import-{job_id}", daemon=True
        ).start()

    def _run(self, job_id: int) -> None:
        try:
            jobs.run_stored(self.db, Limits.of(self.settings), job_id)
        except Exception:
            log.exception("import job %s failed", job_id)
            jobs.fail(self.db, job_id, STOPPED)
