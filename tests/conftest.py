"""Fixtures shared by every test: one real PostgreSQL per test session, migrated once.

With GREENPLAT_TEST_DATABASE_URL set the tests use that server (it must be a database the
tests may fill); otherwise they start the embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from greenplat.core import migrate
from greenplat.core.db import Database, open_database
from greenplat.core.settings import Settings

BUILDERS = Path(__file__).parent / "core" / "builders.py"


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
        # The suite signs up and signs in from one address ("testclient") many times; the
        # throttle's own tests set their limits.
        signin_address_failures=1000,
        signup_address_attempts=1000,
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


@pytest.fixture(scope="session")
def make_database_url(db: Database) -> Callable[[str], str]:
    """Create a fresh, migrated database on the session's server; returns its URL.

    For suites whose code commits on its own (indexer, matcher, workers): they get a
    database of their own instead of the rolled-back `conn`.
    """

    def make(prefix: str) -> str:
        name = f"greenplat_{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(db.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        url = make_conninfo(db.url, dbname=name)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        migrate.upgrade(url)
        return url

    return make


@pytest.fixture(scope="session")
def build():
    """The builders module (tests/core/builders.py): records and accounts for tests."""
    name = "greenplat_test_builders"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BUILDERS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def world(db: Database, build):
    """Regions, organizations, experts and one account per role, committed once."""
    return build.make_world(db)


@pytest.fixture(scope="session")
def platform(settings: Settings, db: Database):
    from greenplat.platform import Platform

    return Platform(settings, db)


@pytest.fixture(scope="session", autouse=True)
def _test_sized_password_hashing():
    """Real argon2, at a cost sized for tests: at full cost hashing dominates set-up."""
    from argon2 import PasswordHasher

    from greenplat.core.accounts import service as accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
        yield


class SmtpInbox:
    """What a real SMTP server on loopback received: parsed messages, in arrival order."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def _smtp() -> Iterator[tuple[SmtpInbox, int]]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on a free loopback port for one test: (inbox, port)."""
    yield from _smtp()


@pytest.fixture(scope="session")
def mailbox():
    """An aiosmtpd server on a free loopback port for the session (the served portal's)."""
    yield from _smtp()
