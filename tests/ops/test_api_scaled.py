"""The API test suite again, scaled out: PostgreSQL by URL, a real broker and a real worker.

tests/conftest.py reads GREENPLAT_TEST_DATABASE_URL, GREENPLAT_TEST_BROKER_URL and
GREENPLAT_TEST_QUEUE_PREFIX; this test runs tests/api in a child pytest with all three set, so
the same API tests that pass on the embedded default must pass on this configuration too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from greenplat.core.db import Database
from greenplat.core.queue import INDEX_QUEUE, make_celery, queue_name
from greenplat.indexer.tasks import DRAIN_TASK

ROOT = Path(__file__).resolve().parents[2]


def fresh_database_url(db: Database) -> str:
    """A new, empty database on the session's server, as a postgresql:// URL."""
    name = f"greenplat_scaled_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(db.url)
    host = quote(str(params.get("host", "")), safe="")
    port = f":{params['port']}" if params.get("port") else ""
    # host in the query string: the embedded server listens on a Unix socket only
    return f"postgresql://{params.get('user', 'postgres')}@{port}/{name}?host={host}"


def run_api_tests(env: dict[str, str], basetemp: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/api"]
    return subprocess.run(
        [*command, f"--basetemp={basetemp}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_api_suite_passes_with_external_postgres_and_a_broker(
    db, ops_settings, broker, spawn_worker, poll, tmp_path
):
    url = fresh_database_url(db)
    settings = ops_settings.model_copy(
        update={"database_url": url, "broker_url": broker.url, "queue_prefix": broker.prefix}
    )
    # a live worker on the same database and broker while the API tests run
    spawn_worker(settings, broker, f"api-{broker.prefix}", "index,match,import")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_TEST_DATABASE_URL=url,
        GREENPLAT_TEST_BROKER_URL=broker.url,
        GREENPLAT_TEST_QUEUE_PREFIX=broker.prefix,
    )
    result = run_api_tests(env, tmp_path / "api")
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed > 0 and "failed" not in summary and "error" not in summary, summary

    # What the API wrote through the external URL reaches the index through the broker.
    database = Database(url, min_size=0, max_size=2)
    app = make_celery(settings)
    try:
        assert pending(database) > 0, "the API tests changed no record"
        app.send_task(DRAIN_TASK, queue=queue_name(settings, INDEX_QUEUE))
        poll(lambda: pending(database) == 0, 180, "the worker to drain the API's outbox")
    finally:
        app.close()
        database.close()


def pending(database: Database) -> int:
    with database.session() as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL"
        ).fetchone()["n"]
