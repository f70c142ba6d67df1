"""Fixtures shared by every test: one real PostgreSQL per test session, migrated once.

With GREENPLAT_TEST_DATABASE_URL set the tests use that server (it must be a database the
tests may fill); otherwise they start the embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from greenplat.core.db import Database, open_database
from greenplat.core.settings import Settings


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("greenplat-data")
    path.chmod(0o755)
    # pytest's temporary root is private to root; the embedded server runs as 'pgserver'.
    for parent in path.parents:
        if str(parent).startswith("/tmp/") or str(parent) == "/tmp":
            parent.chmod(parent.stat().st_mode | 0o755)
    return path


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        database_url=os.environ.get("GREENPLAT_TEST_DATABASE_URL"),
        # tests/ops runs the API tests again with a broker and a worker (test_api_scaled.py)
        broker_url=os.environ.get("GREENPLAT_TEST_BROKER_URL"),
        queue_prefix=os.environ.get("GREENPLAT_TEST_QUEUE_PREFIX", ""),
        es_url=None,
    )


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.close()


@pytest.fixture
def conn(db: Database) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with db.pool.connection() as connection:
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()
