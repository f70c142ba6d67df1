"""The demo tells a story over months: dated problems, expert answers, deals, statistics."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from greenplat.core.db import Database
from greenplat.core.demo import loader
from greenplat.core.permissions import SYSTEM
from greenplat.core.stats import service as stats
from greenplat.matcher import rules

FOLDER = loader.default_data_dir()


def _jsonl(name: str) -> list[dict]:
    return [json.loads(x) for x in (FOLDER / name).read_text("utf-8").splitlines() if x.strip()]


ACTIVITY = _jsonl("activity.jsonl")


@pytest.fixture(scope="module")
def demo(db: Database) -> Iterator[tuple[psycopg.Connection, loader.DemoReport]]:
    """The demo loaded once for the module, in a transaction rolled back at the end."""
    with db.pool.connection() as connection:
        connection.execute("BEGIN")
        try:
            yield connection, loader.load(conn=connection)
        finally:
            connection.rollback()


def _demo_ids(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM problems WHERE external_id = ANY(%s)", ([r["problem"] for r in ACTIVITY],)
    ).fetchall()
    return [r["id"] for r in rows]


def test_the_statistics_show_months_answers_and_deals(demo):
    conn, report = demo
    assert report.dated == len(ACTIVITY)
    figures = stats.summary(conn=conn, principal=SYSTEM)
    assert 0 < figures["response_rate"] < 1
    assert figures["median_hours"] > 0
    assert figures["deals"] >= 1
    months = stats.breakdown(conn=conn, principal=SYSTEM, by="month")
    assert len({m["key"] for m in months if m["posted"]}) >= 4
    # A sub-center sees its own region's history too, not a single month.
    jiangsu = stats.breakdown(conn=conn, principal=SYSTEM, by="month", region="江苏省")
    assert len(jiangsu) >= 5


def test_loading_again_adds_no_feedback_and_changes_no_dates(demo):
    conn, _ = demo
    ids = _demo_ids(conn)

    def state():
        return (
            conn.execute("SELECT count(*) AS n FROM match_feedback").fetchone()["n"],
            conn.execute("SELECT count(*) AS n FROM problem_events").fetchone()["n"],
            conn.execute(
                "SELECT array_agg((created_at, submitted_at, approved_at, closed_at, updated_at)"
                "::text ORDER BY id) AS t FROM problems WHERE id = ANY(%s)",
                (ids,),
            ).fetchone()["t"],
        )

    before = state()
    assert before[0] >= sum(len(r.get("feedback", [])) for r in ACTIVITY)
    again = loader.load(conn=conn)
    assert again.dated == 0
    assert state() == before


def test_every_activity_row_names_demo_records_without_conflicts(demo):
    conn, _ = demo
    problems = {p["external_id"]: p for p in _jsonl("problems.jsonl")}
    experts = {e["external_id"]: e for e in _jsonl("experts.jsonl")}
    intended = {m["problem_id"]: set(m["expert_ids"]) for m in _jsonl("intended_matches.jsonl")}
    assert {r["problem"] for r in ACTIVITY} == set(problems)
    for row in ACTIVITY:
        problem = problems[row["problem"]]
        assert row["status"] == problem["status"], row["problem"]
        for item in row.get("feedback", []):
            expert = experts[item["expert"]]
            assert not rules.conflicted(problem, expert), (row["problem"], item["expert"])
            assert item["expert"] in intended[row["problem"]], (row["problem"], item["expert"])
            assert item["action"] != "declined" or item["reason"].strip()
    by_id = {
        r["external_id"]: r
        for r in conn.execute("SELECT id, external_id, capacity FROM experts").fetchall()
    }
    engaged = rules.open_requests(conn, [e["id"] for e in by_id.values()])
    for expert in by_id.values():
        taken = engaged.get(expert["id"], set())
        assert expert["capacity"] is None or len(taken) <= expert["capacity"], expert["external_id"]


def test_dates_follow_each_other_and_lie_in_the_past(demo):
    conn, _ = demo
    rows = conn.execute(
        "SELECT p.external_id, p.status, p.created_at, p.submitted_at, p.approved_at,"
        " p.closed_at, p.updated_at, now() AS now,"
        " (SELECT min(created_at) FROM match_feedback f WHERE f.problem_id = p.id) AS first_fb,"
        " (SELECT array_agg(e.to_status ORDER BY e.created_at, e.id) FROM problem_events e"
        "   WHERE e.problem_id = p.id) AS trail"
        " FROM problems p WHERE p.id = ANY(%s)",
        (_demo_ids(conn),),
    ).fetchall()
    assert len(rows) == len(ACTIVITY)
    oldest = min(r["created_at"] for r in rows)
    assert (rows[0]["now"] - oldest).days >= 200
    for r in rows:
        assert r["created_at"] <= r["updated_at"] <= r["now"], r["external_id"]
        assert r["trail"][0] == "draft" and r["trail"][-1] == r["status"], r["external_id"]
        if r["status"] != "draft":
            assert r["submitted_at"] >= r["created_at"]
        if r["status"] in ("approved", "matched", "closed"):
            assert r["approved_at"] > r["submitted_at"]
            assert r["first_fb"] is None or r["first_fb"] > r["approved_at"]
        if r["status"] == "closed":
            assert r["closed_at"] > r["approved_at"]
    deal = conn.execute(
        "SELECT p.status FROM match_feedback f JOIN problems p ON p.id = f.problem_id"
        " WHERE f.action = 'deal' AND p.id = ANY(%s)",
        (_demo_ids(conn),),
    ).fetchall()
    assert {"closed"} <= {d["status"] for d in deal}


def test_a_bad_activity_row_names_file_and_line(conn, tmp_path):
    (tmp_path / "activity.jsonl").write_text(
        '{"problem": "PRB-NOPE", "status": "draft", "posted_days_ago": 3}\n', "utf-8"
    )
    with pytest.raises(loader.DemoDataError) as caught:
        loader.load(conn=conn, data_dir=tmp_path)
    assert "activity.jsonl:1" in caught.value.message
    assert "PRB-NOPE" in caught.value.message
