"""Achievements and experts: ownership, extra fields, listing; regions and organizations."""

from __future__ import annotations

import pytest

from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import AchievementCreate, AchievementUpdate
from greenplat.core.errors import Conflict, Forbidden
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertRecord, ExpertUpdate
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate, RegionUpdate


def test_expert_is_always_among_its_new_achievements_authors(conn, world):
    made = achievements.create(
        conn=conn,
        principal=world.users["expert"],
        data=AchievementCreate(title="膜分离", abstract="新型膜材料", expert_ids=[world.expert_b]),
    )
    assert set(made.expert_ids) == {world.expert_b, world.expert_a}
    assert made.external_id.startswith("A-")


def test_expert_cannot_remove_itself_from_its_achievement(conn, world, build):
    row = build.achievement(conn, expert_ids=[world.expert_a])
    with pytest.raises(Forbidden):
        achievements.update(
            conn=conn,
            principal=world.users["expert"],
            achievement_id=row["id"],
            data=AchievementUpdate(expert_ids=[world.expert_b]),
        )
    assert achievements.get(
        conn=conn, principal=world.users["expert"], achievement_id=row["id"]
    ).expert_ids == [world.expert_a]


def test_expert_edits_only_its_own_profile(conn, world):
    me = world.users["expert"]
    mine = experts.update(
        conn=conn, principal=me, expert_id=me.expert_id, data=ExpertUpdate(bio="新")
    )
    assert mine.bio == "新"
    other = experts.get_by_external_id(conn=conn, principal=me, external_id=world.expert_a2)
    with pytest.raises(Forbidden):
        experts.update(conn=conn, principal=me, expert_id=other.id, data=ExpertUpdate(bio="x"))


def test_unknown_fields_are_kept_in_extra(conn, build):
    ext = f"E-X{build.uid()}"
    record = ExpertRecord.model_validate({"external_id": ext, "name": "王工", "wechat": "wg123"})
    expert_id, created = experts.upsert_record(conn=conn, record=record)
    assert created
    again, created = experts.upsert_record(conn=conn, record=record)
    assert (again, created) == (expert_id, False)
    row = conn.execute("SELECT extra, updated_at FROM experts WHERE id=%s", (expert_id,)).fetchone()
    assert row["extra"] == {"wechat": "wg123"}
    exported = [r for r in experts.iter_records(conn=conn) if r["external_id"] == ext]
    assert exported[0]["wechat"] == "wg123"


def test_unchanged_upsert_writes_no_outbox_row(conn, build):
    record = ExpertRecord(external_id=f"E-U{build.uid()}", name="李工")
    expert_id, _ = experts.upsert_record(conn=conn, record=record)
    count = "SELECT count(*) AS n FROM outbox WHERE library='experts' AND record_id=%s"
    before = conn.execute(count, (expert_id,)).fetchone()["n"]
    experts.upsert_record(conn=conn, record=record)
    assert conn.execute(count, (expert_id,)).fetchone()["n"] == before
    experts.upsert_record(conn=conn, record=record.model_copy(update={"title": "教授"}))
    assert conn.execute(count, (expert_id,)).fetchone()["n"] == before + 1


def test_expert_and_achievement_filters(conn, world, build):
    tag = world.tag
    build.expert(conn, region=world.region_b, disciplines=["环境工程"], bio=f"滤{tag}")
    admin = world.users["platform_admin"]
    page = experts.list(conn=conn, principal=admin, region=world.region_b, discipline="环境工程")
    assert page.total == 1 and page.items[0].bio == f"滤{tag}"
    build.achievement(
        conn, expert_ids=[world.expert_b], kind="patent", year=2021, title=f"专利{tag}"
    )
    found = achievements.list(conn=conn, principal=admin, q=f"专利{tag}", kind="patent")
    assert found.total == 1
    assert achievements.list(conn=conn, principal=admin, expert_id=world.expert_b).total >= 1


def test_regions_are_managed_by_platform_admins(conn, world, build):
    admin = world.users["platform_admin"]
    code = build.uid()
    made = regions.create_region(
        conn=conn,
        principal=admin,
        data=RegionCreate(code=code, name=f"丁省{code}", subcenter_name="丁省分中心"),
    )
    with pytest.raises(Conflict):
        regions.create_region(
            conn=conn,
            principal=admin,
            data=RegionCreate(code=code, name="别名", subcenter_name="x"),
        )
    renamed = regions.update_region(
        conn=conn, principal=admin, region_id=made.id, data=RegionUpdate(subcenter_name="新分中心")
    )
    assert renamed.subcenter_name == "新分中心"
    with pytest.raises(Forbidden):
        regions.delete_region(
            conn=conn, principal=world.users["subcenter_admin"], region_id=made.id
        )
    region_a = regions.get_region(conn=conn, name=world.region_a)
    with pytest.raises(Conflict):  # accounts still belong to it
        regions.delete_region(conn=conn, principal=admin, region_id=region_a.id)
    regions.delete_region(conn=conn, principal=admin, region_id=made.id)
    assert regions.get_region(conn=conn, name=f"丁省{code}") is None


def test_renaming_a_region_carries_its_records_along(conn, world, build):
    admin = world.users["platform_admin"]
    row = build.problem(conn, region=world.region_b)
    region_b = regions.get_region(conn=conn, name=world.region_b)
    new_name = f"{world.region_b}-新"
    regions.update_region(
        conn=conn, principal=admin, region_id=region_b.id, data=RegionUpdate(name=new_name)
    )
    moved = conn.execute("SELECT region FROM problems WHERE id = %s", (row["id"],)).fetchone()
    assert moved["region"] == new_name
    sub_b = conn.execute(
        "SELECT region FROM users WHERE id = %s", (world.users["subcenter_b"].id,)
    ).fetchone()
    assert sub_b["region"] == new_name
    expert_b = experts.get_by_external_id(conn=conn, principal=admin, external_id=world.expert_b)
    assert expert_b.region == new_name
