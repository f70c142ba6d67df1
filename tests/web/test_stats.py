"""Statistics of a region: the figures, their breakdowns, the drill-down and the exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from greenplat.core.accounts import service as accounts
from greenplat.core.errors import Forbidden, InvalidInput
from greenplat.core.permissions import Principal
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate
from greenplat.core.stats import service as stats

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def _feedback(conn, problem_id, expert_id, action, at, role="expert", reason=None):
    conn.execute(
        "INSERT INTO match_feedback (problem_id, expert_id, action, reason, actor_role, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (problem_id, expert_id, action, reason, role, at),
    )


@pytest.fixture(scope="module")
def region(db, build):
    """A region of its own with five problems, two experts and their answers, committed."""
    tag = build.uid()
    name = f"统计省{tag}"
    with db.session() as conn:
        regions.upsert_region(
            conn=conn, data=RegionCreate(code=f"S{tag}", name=name, subcenter_name=f"{name}分中心")
        )
        heat = build.expert(conn, region=name, disciplines=["热能工程"])
        materials = build.expert(conn, region=name, disciplines=["材料科学"])
        made, shown = {}, {}
        for key, status, industry, created in (
            ("p1", "approved", "新能源", T0),
            ("p2", "approved", "新能源", T0 + timedelta(days=3)),
            ("p3", "submitted", "新材料", T0 + timedelta(days=31)),
            ("p4", "draft", "新材料", T0 + timedelta(days=32)),
            ("p5", "matched", "新材料", T0 + timedelta(days=33)),
        ):
            row = build.problem(conn, region=name, status=status, industry=industry, title=key)
            conn.execute(
                "UPDATE problems SET created_at = %s, approved_at = %s WHERE id = %s",
                (created, created + timedelta(hours=1), row["id"]),
            )
            made[key] = row["id"]
            shown[key] = row["external_id"]
        p1, p5 = made["p1"], made["p5"]
        _feedback(conn, p1, heat["id"], "invited", T0 + timedelta(hours=1), role="enterprise")
        _feedback(conn, p1, heat["id"], "interested", T0 + timedelta(hours=3))
        _feedback(conn, p1, materials["id"], "declined", T0 + timedelta(hours=5), reason="不对口")
        _feedback(conn, p1, heat["id"], "deal", T0 + timedelta(days=9), role="enterprise")
        conn.execute(
            "UPDATE match_feedback SET contract_kind = 'development', amount_wan = 50,"
            " deal_date = %s WHERE problem_id = %s AND action = 'deal'",
            ((T0 + timedelta(days=9)).date(), p1),
        )
        p5_approved = T0 + timedelta(days=33, hours=1)
        _feedback(
            conn, p5, materials["id"], "declined", p5_approved + timedelta(hours=4), reason="忙"
        )
        accounts.create_user(
            conn=conn,
            username=f"stats-{tag}",
            password=build.PASSWORD,
            role="subcenter_admin",
            region=name,
        )
    return {"name": name, "ids": made, "external_ids": shown, "username": f"stats-{tag}"}


def _admin_of(region) -> Principal:
    return Principal(id=None, username="t", role="subcenter_admin", region=region["name"])


def test_summary_counts_each_figure_by_its_definition(db, region):
    with db.session() as conn:
        figures = stats.summary(conn=conn, principal=_admin_of(region))
    assert figures["posted"] == 4  # the draft is not posted
    assert figures["approved"] == 3  # p1, p2, p5
    assert figures["matched"] == 2  # p1 (interested, deal) and p5 (status matched)
    assert figures["responded"] == 2
    assert figures["response_rate"] == pytest.approx(2 / 3)
    assert figures["median_hours"] == pytest.approx(3.0)  # p1: 2 h after approval, p5: 4 h
    assert figures["deals"] == 1


def test_breakdowns_by_industry_month_and_discipline(db, region):
    me = _admin_of(region)
    with db.session() as conn:
        industry = {r["key"]: r for r in stats.breakdown(conn=conn, principal=me, by="industry")}
        month = {r["key"]: r for r in stats.breakdown(conn=conn, principal=me, by="month")}
        discipline = {
            r["key"]: r for r in stats.breakdown(conn=conn, principal=me, by="discipline")
        }
    assert {
        k: (r["posted"], r["approved"], r["matched"], r["deals"]) for k, r in industry.items()
    } == {
        "新能源": (2, 2, 1, 1),
        "新材料": (2, 1, 1, 0),
    }
    assert {k: r["posted"] for k, r in month.items()} == {"2026-03": 2, "2026-04": 2}
    assert {k: (r["posted"], r["matched"]) for k, r in discipline.items()} == {
        "热能工程": (1, 1),
        "材料科学": (2, 2),
    }


def test_records_behind_a_figure(db, region):
    me = _admin_of(region)
    with db.session() as conn:
        deals = stats.records(conn=conn, principal=me, metric="deals")
        new_materials = stats.records(conn=conn, principal=me, industry="新材料")
        march = stats.records(conn=conn, principal=me, month="2026-03", metric="approved")
    assert [r["id"] for r in deals] == [region["ids"]["p1"]]
    assert {r["title"] for r in new_materials} == {"p3", "p5"}
    assert {r["title"] for r in march} == {"p1", "p2"}


def test_period_filters_by_posting_date(db, region):
    from datetime import date

    with db.session() as conn:
        figures = stats.summary(
            conn=conn, principal=_admin_of(region), since=date(2026, 4, 1), until=date(2026, 4, 30)
        )
        with pytest.raises(InvalidInput) as bad:
            stats.summary(
                conn=conn,
                principal=_admin_of(region),
                since=date(2026, 5, 1),
                until=date(2026, 4, 1),
            )
    assert figures["posted"] == 2 and figures["approved"] == 1
    assert bad.value.field == "since"


def test_a_subcenter_only_ever_sees_its_own_region(db, region, world):
    me = _admin_of(region)
    with db.session() as conn:
        asked_other = stats.summary(conn=conn, principal=me, region=world.region_a)
        own = stats.summary(conn=conn, principal=me)
        with pytest.raises(Forbidden):
            stats.summary(conn=conn, principal=world.users["enterprise"])
    assert asked_other == own


@pytest.fixture
def stats_admin(app, region, build, login_form):
    with TestClient(app) as client:
        client.post("/login", data=login_form(client, region["username"], build.PASSWORD))
        yield client


def test_dashboard_shows_the_figures_and_charts(stats_admin, region):
    page = stats_admin.get("/stats").text
    assert 'id="kpi-posted">4<' in page
    assert 'id="kpi-approved">3<' in page
    assert 'id="kpi-rate">67%<' in page
    assert 'id="kpi-deals">1<' in page
    assert "3.0 小时" in page
    assert 'id="kpi-deal-value">50<' in page and 'id="kpi-days-to-deal">9 天<' in page
    assert page.count('<svg class="chart"') == 4
    assert "新能源" in page and "材料科学" in page and "2026-04" in page


def test_drill_down_lists_the_records_behind_a_number(stats_admin, region):
    page = stats_admin.get("/stats/records", params={"metric": "matched"}).text
    assert f'href="/problems/{region["external_ids"]["p1"]}"' in page
    assert f'href="/problems/{region["external_ids"]["p5"]}"' in page
    assert f'href="/problems/{region["external_ids"]["p2"]}"' not in page
    bad = stats_admin.get("/stats/records", params={"metric": "nonsense"})
    assert bad.status_code == 422 and "metric" in bad.text


def test_csv_export_holds_the_drilled_records(stats_admin, region):
    response = stats_admin.get("/stats/export.csv", params={"metric": "approved"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["编号", "标题"]
    assert sorted(r[1] for r in rows[1:]) == ["p1", "p2", "p5"]
    value, days = rows[0].index("成交金额（万元）"), rows[0].index("发布到成交天数")
    deal = next(r for r in rows[1:] if r[1] == "p1")
    assert (deal[value], deal[days]) == ("50.0", "9")


def test_xlsx_export_has_records_and_breakdowns(stats_admin, region):
    response = stats_admin.get("/stats/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["需求明细", "按行业", "按月份", "按学科"]
    titles = sorted(row[1] for row in book["需求明细"].iter_rows(min_row=2, values_only=True))
    assert titles == ["p1", "p2", "p3", "p5"]
    industry = {r[0]: r[1] for r in book["按行业"].iter_rows(min_row=2, values_only=True)}
    assert industry == {"新能源": 2, "新材料": 2}


def test_platform_admin_sees_every_region_side_by_side(browser_as, region, world):
    page = browser_as("platform_admin").get("/admin/dashboard").text
    assert region["name"] in page and "regions-table" in page
    assert '<svg class="chart"' in page


def test_bad_dates_are_named(stats_admin):
    response = stats_admin.get("/stats", params={"since": "昨天"})
    assert response.status_code == 422
    assert "since" in response.text


def test_xlsx_export_is_ready_to_hand_upward(stats_admin, region):
    """Chinese headers, sheet names and labels, 是/否, widths, frozen header, a named file."""
    response = stats_admin.get("/stats/export.xlsx")
    disposition = response.headers["content-disposition"]
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name == f"{region['name']}-统计-{date.today().isoformat()}.xlsx"
    assert 'filename="' in disposition and disposition.isascii()
    sheet = load_workbook(io.BytesIO(response.content))["需求明细"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["编号", "标题"] and "状态" in header and "已通过" in header
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    status = {r[header.index("标题")]: r[header.index("状态")] for r in rows}
    assert status == {"p1": "已通过", "p2": "已通过", "p3": "待审核", "p5": "已匹配"}
    assert {r[header.index("已通过")] for r in rows} == {"是", "否"}
    # The external id is the one id: no internal number in any cell of the first column.
    assert all(str(r[0]).startswith("P-T") for r in rows)
    assert sheet.freeze_panes == "A2" and sheet[1][0].font.b
    assert sheet.column_dimensions["B"].width >= 6 and sheet.column_dimensions["A"].width > 10
