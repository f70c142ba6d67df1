"""Evidence kept in memory (greenplat.indexer.evidence): the same scores as the database's,
and never a stale work, author, status or vector once a change commits or within the
transaction that made it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from greenplat.core.db import Database
from greenplat.core.outbox import record_change
from greenplat.indexer.service import Indexer
from greenplat.matcher import affinity as aff

MODEL = "minilm"
QUERY = "thermal runaway and cooling of lithium-ion battery packs"


@pytest.fixture(scope="module")
def own(make_database_url, match_settings, world_builder) -> Iterator[tuple[Any, ...]]:
    """A database of its own (these tests commit edits), an indexer keeping evidence in
    memory and one reading it from the database every time."""
    url = make_database_url("evidence")
    settings = match_settings.model_copy(update={"database_url": url})
    db = Database(url, min_size=1, max_size=4)
    kept = Indexer(settings, db)
    read = Indexer(settings.model_copy(update={"evidence_cache_vectors": 0}), db)
    world = world_builder(db)
    kept.sync_pending()
    yield db, world, kept, read
    kept.close()
    read.close()
    db.close()


def evidence(
    indexer: Indexer, db: Database, experts: list[str] | None = None
) -> dict[str, Evidence]:
    """Per expert external id: what a match against QUERY scores it by."""
    with db.session() as conn:
        rows = conn.execute(
            "SELECT * FROM experts WHERE %s::text[] IS NULL OR external_id = ANY(%s) ORDER BY id",
            (experts, experts),
        ).fetchall()
        query = {MODEL: indexer.query_vector(QUERY, model=MODEL)}
        loaded = aff.load_evidence(indexer, conn, rows, [MODEL], query=query)
    out = {}
    for ev in loaded.values():
        ids, sims = ev.work_sims.get(MODEL, ([], []))
        out[ev.expert["external_id"]] = Evidence(
            [w.id for w in ev.works],
            dict(zip(ids, map(float, sims), strict=True)),
            ev.profile_sims.get(MODEL),
        )
    return out


@dataclass
class Evidence:
    """An expert's works and their cosines with the query, and its profile's cosine."""

    works: list[int]
    cosines: dict[int, float]
    profile: float | None

    def __eq__(self, other: object) -> bool:  # cosines: float32 here, pgvector's there
        return (
            isinstance(other, Evidence)
            and self.works == other.works
            and self.cosines == pytest.approx(other.cosines, abs=1e-5)
            and (self.profile is None) == (other.profile is None)
            and (self.profile is None or self.profile == pytest.approx(other.profile, abs=1e-5))
        )


def commit(db: Database, statement: str, params: tuple, achievement: int) -> None:
    with db.session() as conn:
        conn.execute(statement, params)
        record_change(conn, "achievements", achievement)


def test_memory_gives_the_databases_works_and_cosines_and_keeps_them(own) -> None:
    db, _, kept, read = own
    first = evidence(kept, db)
    assert first == evidence(read, db)
    assert any(e.cosines for e in first.values()) and first["E-battery"].profile is not None
    with db.session() as conn:
        generation = kept.evidence.generation(conn)
    assert generation is not None and generation.kept > 0
    assert "E-battery" in generation.works
    assert evidence(kept, db) == first  # served from memory now, unchanged
    assert read.evidence is None


def test_an_edited_work_is_scored_by_its_new_vector_once_reindexed(own) -> None:
    db, world, kept, read = own
    work = world.achievements["battery1"]  # "Thermal runaway of lithium-ion battery packs"
    before = evidence(kept, db, ["E-battery"])["E-battery"]
    commit(
        db,
        "UPDATE achievements SET title = %s, abstract = %s WHERE id = %s",
        ("Irrigation scheduling for rice paddies", "Water saving in rice farming.", work),
        work,
    )
    # Not re-embedded yet: the stored vector is still the old one, and is kept again.
    stale = evidence(kept, db, ["E-battery"])["E-battery"]
    assert stale.cosines[work] == pytest.approx(before.cosines[work], abs=1e-5)
    kept.sync_pending()  # the indexer writes the new vector: the version moves again
    after = evidence(kept, db, ["E-battery"])["E-battery"]
    assert after == evidence(read, db, ["E-battery"])["E-battery"]
    assert after.cosines[work] < before.cosines[work] - 0.1


def test_a_withdrawn_or_reauthored_work_leaves_the_evidence_at_commit(own) -> None:
    db, world, kept, read = own
    withdrawn, moved = world.achievements["battery0"], world.achievements["insider0"]
    evidence(kept, db)  # kept in memory
    commit(
        db, "UPDATE achievements SET status = 'withdrawn' WHERE id = %s", (withdrawn,), withdrawn
    )
    commit(db, "UPDATE achievements SET expert_ids = '{E-busy}' WHERE id = %s", (moved,), moved)
    now = evidence(kept, db)
    assert now == evidence(read, db)
    assert withdrawn not in now["E-battery"].works
    assert moved not in now["E-insider"].works and moved in now["E-busy"].works


def test_a_transaction_reads_its_own_uncommitted_changes_and_others_do_not(own) -> None:
    db, world, kept, _ = own
    work = world.achievements["water0"]
    assert work in evidence(kept, db, ["E-water"])["E-water"].works
    with db.pool.connection() as conn:
        conn.execute("UPDATE achievements SET status = 'withdrawn' WHERE id = %s", (work,))
        assert kept.evidence.generation(conn) is None  # it reads around the memory
        rows = conn.execute("SELECT * FROM experts WHERE external_id = 'E-water'").fetchall()
        query = {MODEL: kept.query_vector(QUERY, model=MODEL)}
        mine = aff.load_evidence(kept, conn, rows, [MODEL], query=query)
        assert work not in [w.id for w in mine[rows[0]["id"]].works]
        assert work in evidence(kept, db, ["E-water"])["E-water"].works  # not committed yet
        conn.rollback()
    assert work in evidence(kept, db, ["E-water"])["E-water"].works


def test_the_version_moves_once_per_committed_transaction_and_not_on_rollback(own) -> None:
    db, world, _, _ = own
    work = world.achievements["water1"]

    def version() -> int:
        with db.session() as conn:
            return conn.execute("SELECT version FROM evidence_version").fetchone()["version"]

    start = version()
    with db.session() as conn:
        for year in (2019, 2020, 2021):  # three statements, one transaction
            conn.execute("UPDATE achievements SET year = %s WHERE id = %s", (year, work))
    assert version() == start + 1
    with db.pool.connection() as conn:
        conn.execute("UPDATE achievements SET year = 2018 WHERE id = %s", (work,))
        conn.rollback()
    assert version() == start + 1
    with db.session() as conn:  # a column matching does not read
        conn.execute("UPDATE achievements SET abstract = abstract WHERE id = %s", (work,))
    assert version() == start + 1


def test_a_change_forgets_only_what_it_touched(own) -> None:
    db, world, kept, read = own
    kept.sync_pending()  # what earlier tests left to index
    with db.session() as conn:
        assert aff.keep_evidence(kept, conn) > 0  # everything in memory, as a served process
        generation = kept.evidence.generation(conn)
    works = generation.vectors[("achievements", MODEL)]
    work, other = world.achievements["water0"], world.achievements["insider0"]
    assert work in works and other in works
    commit(db, "UPDATE achievements SET discipline = 'chemistry' WHERE id = %s", (work,), work)
    kept.sync_pending()  # re-indexed: its vector is written (and noted) too
    with db.session() as conn:
        assert kept.evidence.generation(conn) is generation  # caught up, not started afresh
    assert "E-water" not in generation.works and "E-battery" in generation.works
    assert work not in works and other in works
    assert world.experts["battery"] in generation.vectors[("experts", MODEL)]
    assert evidence(kept, db) == evidence(read, db)
