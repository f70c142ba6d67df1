"""A sub-center's import is checked against the stored record, not only the incoming row."""

from __future__ import annotations

import pytest

from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.problems import service as problems


def _import(conn, principal, library, *records):
    rows = [Row(n, r) for n, r in enumerate(records, start=1)]
    return interchange.import_rows(conn=conn, principal=principal, library=library, rows=rows)


def test_a_subcenter_cannot_overwrite_another_regions_problem(conn, world, build):
    js, gd = world.users["subcenter_admin"], world.users["subcenter_b"]
    theirs = build.problem(conn, region=world.region_b, status="submitted", title="广东的需求")
    takeover = {
        "external_id": theirs["external_id"],
        "title": "改名",
        "description": "被改写",
        "region": world.region_a,
        "status": "approved",
    }
    report = _import(conn, js, "problems", takeover)
    assert (report.created, report.updated) == (0, 0)
    [rejected] = report.rejected
    assert rejected.line == 1 and theirs["external_id"] in rejected.reason
    stored = conn.execute("SELECT * FROM problems WHERE id = %s", (theirs["id"],)).fetchone()
    assert (stored["title"], stored["region"], stored["status"]) == (
        "广东的需求",
        world.region_b,
        "submitted",
    )
    seen = problems.get(conn=conn, principal=gd, problem_id=theirs["id"])
    assert seen is not None and seen.title == "广东的需求"


def test_a_subcenter_cannot_move_its_own_record_out_of_its_region(conn, world, build):
    js = world.users["subcenter_admin"]
    ours = build.problem(conn, region=world.region_a)
    moved = {**_record(ours), "region": world.region_b}
    report = _import(conn, js, "problems", moved)
    assert [r.line for r in report.rejected] == [1]
    assert conn.execute("SELECT region FROM problems WHERE id = %s", (ours["id"],)).fetchone() == {
        "region": world.region_a
    }


def test_a_subcenter_still_updates_its_own_regions_record(conn, world, build):
    js = world.users["subcenter_admin"]
    ours = build.problem(conn, region=world.region_a)
    report = _import(conn, js, "problems", {**_record(ours), "title": "新标题"})
    assert (report.updated, report.rejected) == (1, [])


@pytest.mark.parametrize("library", ["experts", "achievements"])
def test_experts_and_achievements_of_another_region_are_not_overwritten(
    conn, world, build, library
):
    js = world.users["subcenter_admin"]
    if library == "experts":
        theirs = build.expert(conn, region=world.region_b)
        incoming = {"external_id": theirs["external_id"], "name": "改名", "region": world.region_a}
        column, before = "name", theirs["name"]
    else:
        # An achievement lies in the region of its experts: expert_b is in region B.
        theirs = build.achievement(conn, expert_ids=[world.expert_b])
        incoming = {
            "external_id": theirs["external_id"],
            "title": "改名",
            "abstract": "改写",
            "expert_ids": [world.expert_a],
        }
        column, before = "title", theirs["title"]
    report = _import(conn, js, library, incoming)
    assert [r.line for r in report.rejected] == [1]
    stored = conn.execute(f"SELECT * FROM {library} WHERE id = %s", (theirs["id"],)).fetchone()
    assert stored[column] == before


def _record(row: dict) -> dict:
    return {
        "external_id": row["external_id"],
        "title": row["title"],
        "description": row["description"],
        "region": row["region"],
        "status": row["status"],
    }
