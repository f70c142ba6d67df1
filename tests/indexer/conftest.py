"""Fixtures of the indexer tests: an own database on the session's server, builders, indexers.

The indexer commits (it drains the outbox in its own transactions), so its tests get a
database of their own, emptied before each test, instead of the rolled-back `conn`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from greenplat.core.db import Database
from greenplat.core.organizations import service as organizations
from greenplat.core.outbox import record_change
from greenplat.core.settings import Settings
from greenplat.indexer.service import Indexer

LIBRARY_TABLES = ("problems", "achievements", "experts", "outbox", "search_documents")


@pytest.fixture(scope="session")
def index_db_url(make_database_url) -> str:
    return make_database_url("indexer")


@pytest.fixture(scope="session")
def index_db(index_db_url: str) -> Iterator[Database]:
    database = Database(index_db_url, min_size=1, max_size=6)
    yield database
    database.close()


def empty(database: Database) -> None:
    """Remove every record, outbox row and index entry (the embedding cache stays)."""
    with database.session() as conn:
        tables = [
            r["tablename"]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'search_vectors_%%'"
            )
        ]
        conn.execute(
            "TRUNCATE " + ", ".join([*LIBRARY_TABLES, *tables]) + " RESTART IDENTITY CASCADE"
        )


@pytest.fixture
def index_settings(settings: Settings, index_db_url: str) -> Settings:
    """Settings on the indexer's database; MiniLM only, the fast model."""
    return settings.model_copy(update={"database_url": index_db_url, "models": "en:minilm"})


@pytest.fixture
def fresh_index_db(index_db: Database) -> Database:
    """The indexer's database, emptied for this test."""
    empty(index_db)
    return index_db


@pytest.fixture
def iconn(fresh_index_db: Database) -> Iterator[psycopg.Connection]:
    """One connection for the test's searches; autocommit, so every statement sees the
    indexer's latest commits and holds no lock between statements."""
    with fresh_index_db.pool.connection() as conn:
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.autocommit = False


@pytest.fixture
def indexer(index_settings: Settings, fresh_index_db: Database) -> Iterator[Indexer]:
    idx = Indexer(index_settings, fresh_index_db)
    yield idx
    idx.close()


@dataclass
class Records:
    """Builders of library records; each write records its outbox row, as the services do."""

    db: Database

    def problem(self, title: str, description: str, **extra) -> int:
        values = {
            "external_id": extra.pop("external_id", f"P-{uuid.uuid4().hex[:10]}"),
            "title": title,
            "description": description,
            "keywords": [],
            "status": "approved",
            **extra,
        }
        return self._insert("problems", values)

    def organization(self, name: str) -> int:
        with self.db.session() as conn:
            return organizations.ensure(conn=conn, name=name, verified=True)

    def achievement(self, title: str, abstract: str, **extra) -> int:
        values = {
            "external_id": extra.pop("external_id", f"A-{uuid.uuid4().hex[:10]}"),
            "title": title,
            "abstract": abstract,
            "keywords": [],
            **extra,
        }
        return self._insert("achievements", values)

    def expert(self, name: str, bio: str, **extra) -> int:
        values = {
            "external_id": extra.pop("external_id", f"E-{uuid.uuid4().hex[:10]}"),
            "name": name,
            "bio": bio,
            **extra,
        }
        return self._insert("experts", values)

    def update(self, library: str, record_id: int, **values) -> None:
        sets = ", ".join(f"{column} = %s" for column in values)
        with self.db.session() as conn:
            conn.execute(
                f"UPDATE {library} SET {sets} WHERE id = %s", [*values.values(), record_id]
            )
            record_change(conn, library, record_id)

    def delete(self, library: str, record_id: int) -> None:
        with self.db.session() as conn:
            conn.execute(f"DELETE FROM {library} WHERE id = %s", (record_id,))
            record_change(conn, library, record_id, "delete")

    def _insert(self, table: str, values: dict) -> int:
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        with self.db.session() as conn:
            record_id = conn.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",
                list(values.values()),
            ).fetchone()["id"]
            record_change(conn, table, record_id)
        return record_id


@pytest.fixture
def records(fresh_index_db: Database) -> Records:
    return Records(fresh_index_db)


def _backend(name: str, request: pytest.FixtureRequest):
    if name == "postgres":
        from greenplat.indexer.pgbackend import PostgresBackend

        return PostgresBackend()
    url = os.environ.get("GREENPLAT_ES_URL")
    if not url:
        pytest.skip("GREENPLAT_ES_URL is not set: no Elasticsearch cluster to run against")
    from greenplat.indexer.esbackend import ElasticsearchBackend

    backend = ElasticsearchBackend(url, prefix=f"greenplat-test-{uuid.uuid4().hex[:8]}")
    request.addfinalizer(backend.drop)
    return backend


@pytest.fixture(params=["postgres", pytest.param("elasticsearch", marks=pytest.mark.es)])
def any_indexer(
    request: pytest.FixtureRequest, index_settings: Settings, fresh_index_db: Database
) -> Iterator[Indexer]:
    """An indexer on each backend in turn: the contract suite runs once per backend."""
    idx = Indexer(index_settings, fresh_index_db, backend=_backend(request.param, request))
    yield idx
    idx.close()


@pytest.fixture
def any_records(any_indexer: Indexer, fresh_index_db: Database) -> Records:
    return Records(fresh_index_db)
