"""Imports check regions, industries and disciplines against the reference lists."""

from __future__ import annotations

from collections import Counter

from greenplat.core.accounts import service as accounts
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.permissions import SYSTEM
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate
from greenplat.core.stats import service as stats

SPELLINGS = ("江苏", "Jiangsu", "安徽", "火星省")


def _jiangsu_center(conn, build):
    if regions.get_region(conn=conn, name="江苏省") is None:
        regions.upsert_region(
            conn=conn, data=RegionCreate(code="js", name="江苏省", subcenter_name="江苏分中心")
        )
    name = f"js-{build.uid()}"
    accounts.create_user(
        conn=conn, username=name, password=build.PASSWORD, role="subcenter_admin", region="江苏省"
    )
    return accounts.get_principal_by_username(conn=conn, username=name)


def _rows(tag: str) -> list[Row]:
    return [
        Row(
            i + 1,
            {
                "external_id": f"P-REF-{tag}-{i}",
                "title": f"难题 {i}",
                "description": "需要一种新的工艺。",
                "region": SPELLINGS[i % 4],
                "industry": "新能源",
                "status": "submitted",
            },
        )
        for i in range(1000)
    ]


def test_import_of_1000_problems_maps_aliases_and_rejects_unknown_regions(conn, build):
    center = _jiangsu_center(conn, build)
    before = stats.summary(conn=conn, principal=center)["posted"]
    report = interchange.import_rows(
        conn=conn, principal=SYSTEM, library="problems", rows=_rows(build.uid())
    )
    assert report.created == 750
    mapped = Counter((m.given, m.value) for _, m in report.mapped)
    assert mapped == {("江苏", "江苏省"): 250, ("Jiangsu", "江苏省"): 250, ("安徽", "安徽省"): 250}
    assert len(report.rejected) == 250
    reason = report.rejected[0].reason
    assert "火星省" in reason and "region" in reason and "最接近" in reason
    assert all(r.line % 4 == 0 for r in report.rejected)
    # js-center's dashboard counts every 江苏 row, whichever way it was spelled.
    assert stats.summary(conn=conn, principal=center)["posted"] == before + 500


def test_disciplines_of_an_expert_are_mapped_item_by_item(conn, build):
    rows = [
        Row(
            1, {"external_id": f"E-REF-{build.uid()}", "name": "甲", "disciplines": "材料科学;药学"}
        ),
        Row(2, {"external_id": f"E-REF-{build.uid()}", "name": "乙", "disciplines": ["炼金术"]}),
    ]
    report = interchange.import_rows(conn=conn, principal=SYSTEM, library="experts", rows=rows)
    assert report.created == 1
    stored = conn.execute(
        "SELECT disciplines FROM experts WHERE external_id = %s", (rows[0].data["external_id"],)
    ).fetchone()
    assert stored["disciplines"] == ["材料科学与工程", "药学"]
    assert [r.line for r in report.rejected] == [2]
    assert "炼金术" in report.rejected[0].reason
