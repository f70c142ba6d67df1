"""The periodic verification task repairs drift by itself, also when a broker is configured."""

from __future__ import annotations

from greenplat.core.beat import beat_schedule
from greenplat.indexer.service import Indexer
from greenplat.indexer.tasks import VERIFY_TASK, verify_and_repair


def test_verification_with_a_broker_repairs_what_it_finds(iconn, index_settings, fresh_index_db):
    # With a broker, verify() only queues repairs; the task must drain them itself.
    settings = index_settings.model_copy(update={"broker_url": "redis://127.0.0.1:6379/15"})
    indexer = Indexer(settings, fresh_index_db)
    try:
        with fresh_index_db.session() as conn:
            conn.execute(
                "INSERT INTO problems (external_id, title, description, status)"
                " VALUES ('P-unannounced', 'Kiln heat recovery', 'Recover kiln heat.', 'approved')"
            )
        report = verify_and_repair(indexer)
        assert report["drift"] == 1
        assert report["repaired"] == 1
        assert indexer.verify(repair=False)["drift"] == 0
        hits = indexer.search("problems", text="kiln", mode="lexical", conn=iconn)
        assert [hit.external_id for hit in hits] == ["P-unannounced"]
    finally:
        indexer.close()


def test_beat_sends_the_verification_task(index_settings):
    tasks = {entry["task"] for entry in beat_schedule(index_settings).values()}
    assert VERIFY_TASK in tasks
