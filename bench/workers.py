"""Outbox throughput with 1 and 2 Celery workers on a real broker, and probe latencies.

    python -m bench.workers [--rows 600] [--broker redis://127.0.0.1:6379/0] [--threads 1]

Workers are real `celery worker` processes of the project's app (MiniLM, concurrency 1). Each
round first warms every worker (model loaded), then times draining a fresh outbox of --rows
changes. Also prints /readyz and /metrics latency on the same database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid

from fastapi.testclient import TestClient

from bench.common import bench_database, summary_ms
from greenplat.api.app import create_app
from greenplat.core.db import Database
from greenplat.core.outbox import record_changes
from greenplat.core.queue import INDEX_QUEUE, make_celery, queue_name
from greenplat.core.settings import Settings
from greenplat.indexer.tasks import DRAIN_TASK
from greenplat.platform import Platform


def add_problems(db: Database, count: int, tag: str) -> None:
    with db.session() as conn:
        ids = [
            conn.execute(
                "INSERT INTO problems (external_id, title, description, keywords, status)"
                " VALUES (%s, %s, %s, '{}', 'approved') RETURNING id",
                (f"P-{tag}-{n}", f"余热回收 {tag} {n}", f"回收 {n} 号窑炉烟气余热，降低能耗。"),
            ).fetchone()["id"]
            for n in range(count)
        ]
        record_changes(conn, "problems", ids)


def pending(db: Database) -> int:
    with db.session() as conn:
        row = conn.execute("SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL")
        return row.fetchone()["n"]


def wait_drained(db: Database, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while pending(db) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pending(db):
        raise SystemExit("the outbox did not drain in time")


def start_workers(settings: Settings, count: int, threads: int) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_ENV="test",
        GREENPLAT_DATABASE_URL=str(settings.database_url),
        GREENPLAT_BROKER_URL=str(settings.broker_url),
        GREENPLAT_QUEUE_PREFIX=settings.queue_prefix,
        GREENPLAT_MODELS=settings.models,
        HF_HUB_OFFLINE="1",
    )
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    queue = queue_name(settings, INDEX_QUEUE)
    return [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "greenplat.core.queue", "worker", "-Q", queue]
            + ["--concurrency=1", f"--hostname=bench{n}-{settings.queue_prefix}@%h"]
            + ["--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(count)
    ]


def drain_round(settings: Settings, db: Database, workers: int, rows: int, threads: int) -> float:
    """Seconds for `workers` warm workers to drain `rows` fresh outbox rows."""
    app = make_celery(settings)
    processes = start_workers(settings, workers, threads)
    queue = queue_name(settings, INDEX_QUEUE)
    try:
        while len(app.control.ping(timeout=1)) < workers:
            time.sleep(0.5)
        add_problems(db, 4 * workers, f"warm{workers}")
        for _ in range(workers):  # one small drain each: every worker loads its model
            app.send_task(DRAIN_TASK, kwargs={"batch_size": 1}, queue=queue)
        wait_drained(db)
        add_problems(db, rows, f"run{workers}")
        started = time.perf_counter()
        for _ in range(workers * 2):
            app.send_task(DRAIN_TASK, kwargs={"batch_size": 16}, queue=queue)
        wait_drained(db)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
        app.close()


def probe_latency(settings: Settings, db: Database, rounds: int = 50) -> None:
    platform = Platform(settings, db)
    # From loopback: the operator, who may read /metrics.
    client = TestClient(create_app(platform=platform), client=("127.0.0.1", 50000))
    for path in ("/readyz", "/metrics"):
        seconds = []
        for _ in range(rounds):
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            seconds.append(time.perf_counter() - started)
        print(f"  GET {path:9} {summary_ms(seconds)}")
    platform.indexer.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads per worker (0: torch's default)"
    )
    args = parser.parse_args()
    with bench_database(models="en:minilm") as (base, db):
        settings = base.model_copy(
            update={
                "database_url": db.url,
                "broker_url": args.broker,
                "queue_prefix": f"bench{uuid.uuid4().hex[:8]}-",
            }
        )
        print(f"outbox drain, {args.rows} problem changes, MiniLM, broker {args.broker}")
        for workers in (1, 2):
            seconds = drain_round(settings, db, workers, args.rows, args.threads)
            print(
                f"  {workers} worker(s): {seconds:6.1f} s  {args.rows / seconds:7.1f} rows/s"
                f"  (threads per worker: {args.threads or 'default'}, cores: {os.cpu_count()})"
            )
        print("probes (broker reachable, PostgreSQL search backend)")
        probe_latency(settings, db)


if __name__ == "__main__":
    main()
