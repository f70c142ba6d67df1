"""Renaming a region or industry is an explicit merge: preview, confirm, audited."""

from __future__ import annotations

import pytest

from greenplat.core.errors import Conflict, Forbidden, InvalidInput
from greenplat.core.reference import merge
from greenplat.core.reference import service as reference
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionUpdate


def _legacy_problems(conn, build, region, n):
    # Rows from before the reference lists: stored as given, bypassing normalisation.
    return [build.problem(conn, region=region, industry="新能源🔋") for _ in range(n)]


def test_a_merge_previews_then_moves_records_and_leaves_an_alias(conn, world, build):
    admin = world.users["platform_admin"]
    legacy = _legacy_problems(conn, build, "江苏", 3)
    args = {"conn": conn, "principal": admin, "kind": "region", "source": "江苏"}
    planned = merge.preview(**args, target="江苏省")
    assert planned.moves["problems"] == 3 and planned.total == 3
    assert sorted(planned.samples["problems"]) == sorted(p["external_id"] for p in legacy)
    assert (
        conn.execute("SELECT count(*) AS n FROM problems WHERE region = '江苏'").fetchone()["n"]
        == 3
    )
    with pytest.raises(Conflict) as stale:
        merge.merge(**args, target="江苏省", expected=2)
    assert stale.value.field == "expected"
    merge.merge(**args, target="江苏省", expected=3)
    moved = conn.execute(
        "SELECT region FROM problems WHERE id = ANY(%s)", ([p["id"] for p in legacy],)
    ).fetchall()
    assert {r["region"] for r in moved} == {"江苏省"}
    logged = conn.execute(
        "SELECT * FROM audit_log WHERE action = 'merge' AND external_id = '江苏'"
    ).fetchone()
    assert (logged["actor"], logged["rows"], logged["detail"]["target"]) == (
        admin.username,
        3,
        "江苏省",
    )
    updates = conn.execute(
        "SELECT actor FROM audit_log WHERE action = 'update' AND record_id = %s",
        (legacy[0]["id"],),
    ).fetchall()
    assert [u["actor"] for u in updates] == [admin.username]


def test_an_industry_merge_and_who_may_merge(conn, world, build):
    _legacy_problems(conn, build, world.region_a, 2)
    admin = world.users["platform_admin"]
    args = {"conn": conn, "kind": "industry", "source": "新能源🔋", "target": "新能源"}
    with pytest.raises(Forbidden):
        merge.preview(principal=world.users["subcenter_admin"], **args)
    planned = merge.preview(principal=admin, **args)
    merge.merge(principal=admin, expected=planned.total, **args)
    assert merge.records_using(conn, "industry", "新能源🔋") == 0


def test_a_region_rename_onto_a_name_records_use_is_refused(conn, world, build):
    """Renaming 江苏省 → 江苏 and back used to merge the 江苏 rows silently."""
    admin = world.users["platform_admin"]
    _legacy_problems(conn, build, f"{world.region_a}-旧", 1)
    region = regions.get_region(conn=conn, name=world.region_a)
    with pytest.raises(Conflict) as refused:
        regions.update_region(
            conn=conn,
            principal=admin,
            region_id=region.id,
            data=RegionUpdate(name=f"{world.region_a}-旧"),
        )
    assert refused.value.field == "name" and "合并" in refused.value.message


def test_a_merge_refuses_a_target_outside_the_lists_and_a_region_with_accounts(conn, world):
    admin = world.users["platform_admin"]
    with pytest.raises(InvalidInput) as bad:
        merge.preview(conn=conn, principal=admin, kind="region", source="江苏", target="火星省")
    assert bad.value.field == "target"
    with pytest.raises(Conflict):
        merge.preview(
            conn=conn, principal=admin, kind="region", source=world.region_a, target="江苏省"
        )
    assert reference.resolve("region", "江苏", conn=conn).value == "江苏省"
