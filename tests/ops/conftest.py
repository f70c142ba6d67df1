"""Fixtures of the operations tests: an own database, real brokers, real Celery workers.

Workers drain the outbox in their own transactions, so these tests get a database of their own
on the session's PostgreSQL, reached by its URL like an external server. Each broker run uses a
queue prefix of its own, so parallel runs on one Redis or RabbitMQ never see each other's tasks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from greenplat.core.db import Database
from greenplat.core.settings import Settings

REDIS_URL = os.environ.get("GREENPLAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("GREENPLAT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = {"redis": REDIS_URL, "rabbitmq": AMQP_URL}


def reachable(url: str) -> bool:
    """True when something accepts TCP connections at the URL's host and port."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def ops_db_url(make_database_url) -> str:
    return make_database_url("ops")


@pytest.fixture(scope="session")
def ops_db(ops_db_url: str) -> Iterator[Database]:
    database = Database(ops_db_url, min_size=1, max_size=4)
    yield database
    database.close()


@pytest.fixture
def ops_settings(settings: Settings, ops_db_url: str) -> Settings:
    """Settings on the operations database with the fast model only."""
    return settings.model_copy(update={"database_url": ops_db_url, "models": "en:minilm"})


@dataclass
class Worker:
    """A `celery worker` subprocess of the project's app; its JSON log goes to a file."""

    name: str
    process: subprocess.Popen
    log_path: Path
    lines: list[dict] = field(default_factory=list)

    def tail(self, lines: int = 30) -> str:
        """The last lines the worker wrote, for failure messages."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def records(self) -> list[dict]:
        """The JSON log lines the worker wrote so far (other lines are skipped)."""
        out = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: finishes the task in hand
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def worker_env(settings: Settings, broker_url: str, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_ENV="test",
        GREENPLAT_DATABASE_URL=str(settings.database_url),
        GREENPLAT_BROKER_URL=broker_url,
        GREENPLAT_QUEUE_PREFIX=prefix,
        GREENPLAT_MODELS=settings.models,
        GREENPLAT_MODELS_DIR=str(settings.models_dir),
        GREENPLAT_DATA_DIR=str(settings.data_dir),
        GREENPLAT_LOG_JSON="true",
        GREENPLAT_DB_POOL_MAX="3",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def start_worker(
    settings: Settings,
    broker_url: str,
    prefix: str,
    name: str,
    queues: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
) -> Worker:
    log_path = log_dir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "greenplat.core.queue",
        "worker",
        "-Q",
        ",".join(f"{prefix}{queue}" for queue in queues.split(",")),
        "--concurrency=1",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command,
            env=worker_env(settings, broker_url, prefix) | (extra_env or {}),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Worker(name, process, log_path)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5, explain=None):
    """Poll predicate until it returns something truthy; fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    details = f"\n{explain()}" if explain else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{details}")


def purge_broker(broker_url: str, prefix: str) -> None:
    """Remove what a run left on the broker: its Redis keys or its RabbitMQ queues."""
    if broker_url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(broker_url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
        return
    from kombu import Connection

    with Connection(broker_url, connect_timeout=5) as connection:
        channel = connection.channel()
        for queue in ("index", "import"):
            try:
                channel.queue_delete(f"{prefix}{queue}")
            except Exception:  # noqa: BLE001 - a queue never declared is fine
                channel = connection.channel()


@dataclass
class Broker:
    """A real broker for one test, with a queue prefix no other run uses."""

    name: str
    url: str
    prefix: str


@pytest.fixture(params=sorted(BROKERS))
def broker(request) -> Iterator[Broker]:
    """Each of the machine's brokers in turn; a broker that is down fails the test."""
    url = BROKERS[request.param]
    assert reachable(url), f"{request.param} must be running at {url} (.ci/run starts it)"
    found = Broker(request.param, url, f"t{uuid.uuid4().hex[:10]}-")
    yield found
    purge_broker(url, found.prefix)


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator:
    """Start Celery worker subprocesses; all are stopped when the test ends."""
    started: list[Worker] = []

    def spawn(
        settings: Settings, broker: Broker, name: str, queues: str, env: dict | None = None
    ) -> Worker:
        worker = start_worker(settings, broker.url, broker.prefix, name, queues, tmp_path, env)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def poll():
    """wait_for, as a fixture (test modules cannot import conftest under importlib mode)."""
    return wait_for
