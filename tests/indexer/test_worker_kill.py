"""Celery on the machine's Redis: a real worker killed with SIGKILL in the middle of a batch
leaves, after a restart, an index equal to the database (nothing lost, nothing doubled); the
dispatcher hands changes to the broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from greenplat.core.queue import INDEX_QUEUE, make_celery, queue_name
from greenplat.indexer.service import Indexer
from greenplat.indexer.sync import APPLICATION_NAME
from greenplat.indexer.tasks import DRAIN_TASK

pytestmark = pytest.mark.slow

REDIS_DB = int(os.environ.get("GREENPLAT_TEST_REDIS_DB", "13"))
RECORDS = 240
BATCH = 16


@pytest.fixture
def broker_settings(index_settings) -> Iterator:
    prefix = f"greenplat-test-{uuid.uuid4().hex[:8]}:"
    settings = index_settings.model_copy(
        update={"broker_url": f"redis://127.0.0.1:6379/{REDIS_DB}", "queue_prefix": prefix}
    )
    yield settings
    client = redis.Redis(db=REDIS_DB)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


class Worker:
    """`celery worker` in its own process group, logging to a file."""

    def __init__(self, settings, log: Path) -> None:
        self.settings, self.log = settings, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = os.environ | {
            "GREENPLAT_ENV": "test",
            "GREENPLAT_DATABASE_URL": self.settings.database_url,
            "GREENPLAT_BROKER_URL": self.settings.broker_url,
            "GREENPLAT_QUEUE_PREFIX": self.settings.queue_prefix,
            "GREENPLAT_MODELS": self.settings.models,
            "GREENPLAT_DATA_DIR": str(self.settings.data_dir),
        }
        queue = queue_name(self.settings, INDEX_QUEUE)
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "greenplat.core.queue",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "-n",
            f"kill-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def wait_for(condition, timeout: float, what: str, worker: Worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.log.read_text()[-3000:]}")


def test_killed_worker_loses_and_doubles_nothing(
    iconn, indexer, records, broker_settings, tmp_path
):
    made = [
        records.achievement(
            f"Study {i} of catalyst ageing",
            f"Sample {i}: " + "We measure how platinum catalysts age under cyclic load. " * 6,
        )
        for i in range(RECORDS)
    ]
    db = indexer.db

    def scalar(query: str, *params):
        with db.session() as conn:
            return next(iter(conn.execute(query, params).fetchone().values()))

    def processed() -> int:
        return scalar("SELECT count(*) FROM outbox WHERE processed_at IS NOT NULL")

    def in_batch() -> bool:
        # The worker's connection sits inside a drain transaction (rows claimed, not committed).
        return (
            scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                " AND state IN ('active', 'idle in transaction')",
                APPLICATION_NAME,
            )
            > 0
        )

    app = make_celery(broker_settings)
    queue = queue_name(broker_settings, INDEX_QUEUE)
    worker = Worker(broker_settings, tmp_path / "worker.log")
    try:
        worker.start()
        app.send_task(DRAIN_TASK, kwargs={"batch_size": BATCH}, queue=queue)
        wait_for(lambda: processed() >= 2 * BATCH and in_batch(), 180, "a batch in flight", worker)
        worker.kill()
        done_at_kill = processed()
        assert BATCH <= done_at_kill < RECORDS
        # The server noticed the dead client: its claimed rows are free again, uncommitted.
        wait_for(lambda: not in_batch(), 30, "the killed session to end", worker)
        assert processed() == done_at_kill
        with db.session() as conn:
            indexed = set(indexer.backend.fingerprints(conn, "achievements"))
            done = {
                r["record_id"]
                for r in conn.execute("SELECT record_id FROM outbox WHERE processed_at IS NOT NULL")
            }
        assert indexed == done  # what was committed is exactly what the index holds

        worker.start()
        app.send_task(DRAIN_TASK, kwargs={"batch_size": BATCH}, queue=queue)
        wait_for(lambda: processed() == RECORDS, 300, "the outbox to drain", worker)
    finally:
        worker.stop()
        app.close()

    with db.session() as conn:
        rows = conn.execute(
            "SELECT count(*) AS n, count(DISTINCT record_id) AS distinct_ids FROM search_documents"
            " WHERE library = 'achievements'"
        ).fetchone()
        vectors = indexer.backend.vector_ids(conn, "achievements", "minilm")
        attempts = conn.execute("SELECT max(attempts) AS m FROM outbox").fetchone()["m"]
    assert rows["n"] == rows["distinct_ids"] == RECORDS
    assert vectors == set(made)
    assert attempts == 1  # each row committed once: the killed batch never counted
    assert indexer.verify(repair=False)["drift"] == 0
    hits = indexer.search(
        "achievements", text="Sample 17 catalyst", mode="lexical", k=RECORDS, conn=iconn
    )
    assert len({hit.record_id for hit in hits}) == len(hits) == RECORDS


def test_dispatcher_hands_committed_changes_to_the_broker(indexer, records, broker_settings, iconn):
    """With a broker, the API's dispatcher enqueues a drain (JSON) instead of indexing itself."""
    import json

    dispatching = Indexer(broker_settings, indexer.db)
    client = redis.Redis(db=REDIS_DB)

    def messages() -> list[dict]:
        found = []
        for key in client.scan_iter(f"{broker_settings.queue_prefix}*"):
            if client.type(key) == b"list":
                found += [json.loads(raw) for raw in client.lrange(key, 0, -1)]
        return found

    dispatching.start_dispatcher()
    try:
        records.problem("Kiln heat recovery", "Recover heat from cement kilns.")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not messages():
            time.sleep(0.1)
    finally:
        dispatching.stop_dispatcher()
    sent = messages()
    assert sent and sent[0]["headers"]["task"] == DRAIN_TASK
    assert sent[0]["content-type"] == "application/json"
    assert dispatching.status(iconn)["pending"] == 1  # left for a worker, not drained in-process
