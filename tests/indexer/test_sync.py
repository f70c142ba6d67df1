"""Outbox draining: failures recorded with backoff, concurrent drainers, the dispatcher."""

from __future__ import annotations

import threading
import time

import pytest

from greenplat.indexer.service import Indexer


def outbox(indexer: Indexer) -> list[dict]:
    with indexer.db.session() as conn:
        return conn.execute(
            "SELECT record_id, processed_at, attempts, last_error,"
            " available_at > now() AS waiting FROM outbox ORDER BY id"
        ).fetchall()


def test_failed_rows_record_the_error_and_wait_for_their_backoff(indexer, records, iconn):
    broken = Indexer(
        indexer.settings.model_copy(update={"models": "/nonexistent/model"}), indexer.db
    )
    record = records.problem("Coal gasification", "Gasify coal cleanly.")

    assert broken.sync_pending() == 0
    [row] = outbox(indexer)
    assert row["processed_at"] is None and row["attempts"] == 1 and row["waiting"]
    assert "/nonexistent/model" in row["last_error"]
    status = broken.status(iconn)
    assert status["pending"] == 1 and status["failing"] == 1
    assert status["recent_errors"][0]["record_id"] == record
    assert broken.sync_pending() == 0  # still backing off: not retried at once

    with indexer.db.session() as conn:
        conn.execute("UPDATE outbox SET available_at = now()")
    assert indexer.sync_pending() == 1
    [row] = outbox(indexer)
    assert row["processed_at"] is not None and row["last_error"] is None
    assert indexer.status(iconn)["failing"] == 0


def test_concurrent_drainers_share_the_work_without_doubling_it(indexer, records):
    made = [
        records.achievement(f"Heat pump {i}", f"Heat pump design number {i}.") for i in range(60)
    ]
    other = Indexer(indexer.settings, indexer.db)
    counts: list[int] = []

    def drain(idx: Indexer) -> None:
        from greenplat.indexer import sync

        counts.append(sync.drain(idx, batch_size=8)[0])

    threads = [threading.Thread(target=drain, args=(idx,)) for idx in (indexer, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 60
    rows = outbox(indexer)
    assert all(row["attempts"] == 1 and row["processed_at"] for row in rows)
    with indexer.db.session() as conn:
        assert set(indexer.backend.fingerprints(conn, "achievements")) == set(made)
        assert indexer.backend.vector_ids(conn, "achievements", "minilm") == set(made)


def test_dispatcher_indexes_committed_changes_without_being_asked(iconn, indexer, records):
    indexer.start_dispatcher()
    try:
        record = records.expert("赵工", "Geothermal drilling engineer.")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if [
                h.record_id
                for h in indexer.search("experts", text="geothermal", mode="lexical", conn=iconn)
            ]:
                break
            time.sleep(0.2)
        hits = indexer.search("experts", text="geothermal", mode="lexical", conn=iconn)
        assert [hit.record_id for hit in hits] == [record]
        assert indexer._dispatcher.kicks >= 1
    finally:
        indexer.stop_dispatcher()
    assert indexer._dispatcher is None


@pytest.fixture
def poison(indexer):
    """A real database-side fault: writing the index document of 'A-poison' raises."""
    with indexer.db.session() as conn:
        conn.execute(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.external_id = 'A-poison' THEN RAISE EXCEPTION 'poisoned record';"
            " END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON search_documents"
            " FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
        )
    yield "A-poison"
    with indexer.db.session() as conn:
        conn.execute("DROP TRIGGER refuse_poison ON search_documents")
        conn.execute("DROP FUNCTION refuse_poison()")


def test_one_bad_record_does_not_hold_back_the_others(iconn, indexer, records, poison):
    made = [records.achievement(f"Fuel cell {i}", "PEM fuel cell stack.") for i in range(2)]
    bad = records.achievement("Fuel cell poison", "x", external_id=poison)
    made += [records.achievement(f"Fuel cell {i}", "PEM fuel cell stack.") for i in range(2, 4)]

    assert indexer.sync_pending() == 4
    failed = [row for row in outbox(indexer) if row["processed_at"] is None]
    assert [row["record_id"] for row in failed] == [bad]
    assert "poisoned record" in failed[0]["last_error"]
    hits = indexer.search("achievements", text="fuel cell", mode="lexical", k=10, conn=iconn)
    assert sorted(hit.record_id for hit in hits) == made


def test_a_batch_whose_first_record_fails_delays_the_rest_briefly(iconn, indexer, records, poison):
    bad = records.achievement("Fuel cell poison", "x", external_id=poison)
    made = [records.achievement(f"Fuel cell {i}", "PEM fuel cell stack.") for i in range(3)]

    assert indexer.sync_pending() == 0
    rows = outbox(indexer)
    assert all(row["attempts"] == 1 and row["processed_at"] is None for row in rows)
    with indexer.db.session() as conn:  # the short backoff has passed
        conn.execute("UPDATE outbox SET available_at = now() WHERE record_id <> %s", (bad,))
    assert indexer.sync_pending() == 3
    hits = indexer.search("achievements", text="fuel cell", mode="lexical", k=10, conn=iconn)
    assert sorted(hit.record_id for hit in hits) == made
