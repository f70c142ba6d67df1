"""Two real Celery workers on the "index" queue: every outbox row processed once, none lost.

Runs on the machine's Redis and again on RabbitMQ. A trigger in the test's own database writes
one audit row per committed processing of an outbox row, so a row processed twice shows up as
two audit rows even though processed_at is only ever set once.
"""

from __future__ import annotations

import re
import uuid

import pytest

from greenplat.core.db import Database
from greenplat.core.logging import bound_request_id
from greenplat.core.outbox import record_change
from greenplat.core.queue import INDEX_QUEUE, make_celery, queue_name
from greenplat.indexer.service import Indexer
from greenplat.indexer.tasks import DRAIN_TASK

PROBLEMS, ACHIEVEMENTS, UPDATES = 90, 60, 30
ROWS = PROBLEMS + ACHIEVEMENTS + UPDATES
DRAINED = re.compile(r"drained (\d+) outbox rows")

AUDIT_SQL = """
CREATE TABLE IF NOT EXISTS ops_outbox_audit (
    outbox_id bigint NOT NULL, pid integer NOT NULL, at timestamptz DEFAULT clock_timestamp());
CREATE OR REPLACE FUNCTION ops_outbox_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.processed_at IS NULL AND NEW.processed_at IS NOT NULL THEN
        INSERT INTO ops_outbox_audit (outbox_id, pid) VALUES (NEW.id, pg_backend_pid());
        -- slow each row a little, so both workers are busy at once and race for rows
        PERFORM pg_sleep(0.01);
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER ops_outbox_audit AFTER UPDATE ON outbox
    FOR EACH ROW EXECUTE FUNCTION ops_outbox_audit();
"""


def reset(db: Database) -> None:
    with db.session() as conn:
        conn.execute(AUDIT_SQL)
        conn.execute(
            "TRUNCATE problems, achievements, outbox, ops_outbox_audit RESTART IDENTITY CASCADE"
        )


def fill_outbox(db: Database) -> None:
    """Committed records in both languages, each with its outbox row, and some updates."""
    with db.session() as conn:
        problem_ids = []
        for n in range(PROBLEMS):
            text = (f"窑炉烟气余热回收 {n}", "回收 300℃ 烟气余热，降低能耗。")
            if n % 3 == 0:
                text = (f"Waste heat recovery {n}", "Recover flue gas heat from kilns.")
            row = conn.execute(
                "INSERT INTO problems (external_id, title, description, keywords, status)"
                " VALUES (%s, %s, %s, '{}', 'approved') RETURNING id",
                (f"P-OPS-{n}", *text),
            ).fetchone()
            problem_ids.append(row["id"])
            record_change(conn, "problems", row["id"])
        for n in range(ACHIEVEMENTS):
            row = conn.execute(
                "INSERT INTO achievements (external_id, title, abstract, keywords)"
                " VALUES (%s, %s, %s, '{}') RETURNING id",
                (f"A-OPS-{n}", f"有机朗肯循环发电 {n}", "适用于 80-200℃ 余热的发电系统。"),
            ).fetchone()
            record_change(conn, "achievements", row["id"])
        for problem_id in problem_ids[:UPDATES]:
            conn.execute(
                "UPDATE problems SET title = title || ' (修订)' WHERE id = %s", (problem_id,)
            )
            record_change(conn, "problems", problem_id)


@pytest.mark.slow
def test_two_workers_process_every_outbox_row_exactly_once(
    broker, ops_settings, ops_db, spawn_worker, poll
):
    settings = ops_settings.model_copy(
        update={"broker_url": broker.url, "queue_prefix": broker.prefix}
    )
    reset(ops_db)
    fill_outbox(ops_db)
    app = make_celery(settings)
    try:
        workers = [spawn_worker(settings, broker, f"w{n}-{broker.prefix}", "index") for n in (1, 2)]
        names = {w.name for w in workers}
        poll(lambda: answering(app) >= names, 90, "both workers to answer ping")
        request_id = f"ops-{uuid.uuid4().hex[:12]}"
        with bound_request_id(request_id):
            for _ in range(6):
                app.send_task(
                    DRAIN_TASK, kwargs={"batch_size": 8}, queue=queue_name(settings, INDEX_QUEUE)
                )
        poll(
            lambda: pending(ops_db) == 0,
            240,
            "the outbox to drain",
            explain=lambda: "\n".join([outbox_errors(ops_db), *(w.tail() for w in workers)]),
        )
        with ops_db.session() as conn:
            audit = conn.execute(
                "SELECT count(*) AS n, count(DISTINCT outbox_id) AS distinct_rows"
                " FROM ops_outbox_audit"
            ).fetchone()
            retried = conn.execute(
                "SELECT count(*) AS n FROM outbox WHERE attempts <> 1 OR last_error IS NOT NULL"
            ).fetchone()["n"]
        assert audit == {"n": ROWS, "distinct_rows": ROWS}  # none lost, none doubled
        assert retried == 0
        with ops_db.session() as conn:
            status = Indexer(settings, ops_db).status(conn)
        assert status["libraries"]["problems"] == {"records": PROBLEMS, "indexed": PROBLEMS}
        assert status["libraries"]["achievements"]["indexed"] == ACHIEVEMENTS

        drained = {w.name: drained_by(w) for w in workers}
        assert sum(drained.values()) == ROWS, drained
        assert all(count > 0 for count in drained.values()), f"one worker idle: {drained}"
        # the request id bound at publish time is in the worker's log lines of that task
        tagged = [r for w in workers for r in w.records() if r.get("request_id") == request_id]
        assert tagged and all(r["task"] == DRAIN_TASK for r in tagged)
    finally:
        app.close()


def answering(app) -> set[str]:
    """Names of the workers that answer a ping now."""
    return {host.split("@")[0] for reply in app.control.ping(timeout=1) for host in reply}


def pending(db: Database) -> int:
    with db.session() as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL"
        ).fetchone()["n"]


def outbox_errors(db: Database) -> str:
    with db.session() as conn:
        rows = conn.execute(
            "SELECT id, attempts, last_error FROM outbox WHERE last_error IS NOT NULL LIMIT 5"
        ).fetchall()
    return f"outbox pending: {pending(db)}; errors: {rows}"


def drained_by(worker) -> int:
    """Rows a worker reports drained, from its JSON log lines."""
    total = 0
    for record in worker.records():
        match = DRAINED.search(record.get("message", ""))
        if match and record.get("task") == DRAIN_TASK:
            total += int(match.group(1))
    return total
