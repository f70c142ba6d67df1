"""The portal's first day, the records side: achievements edited and withdrawn, import
templates and the downloadable error report, every month on the chart with a table, favicon."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate

from .test_expert_admin_pages import finished_job_page


@pytest.fixture
def work(db, world, build, platform):
    """An indexed achievement of the world's expert (region A); removed after."""
    with db.session() as conn:
        row = build.achievement(
            conn,
            expert_ids=[world.expert_a],
            title=f"烟气余热梯级利用装置{build.uid()}",
            abstract="窑炉烟气余热梯级回收，先发电后供热。",
        )
        platform.indexer.index_records(conn, {"achievements": [row["id"]]})
    yield row
    with db.session() as conn:
        conn.execute("DELETE FROM achievements WHERE id = %s", (row["id"],))
        platform.indexer.index_records(conn, {"achievements": [row["id"]]})


def _post(client, csrf_of, url, **data):
    return client.post(url, data={"csrf": csrf_of(client), **data}, follow_redirects=False)


def _found(platform, db, title: str, achievement_id: int) -> bool:
    with db.session() as conn:
        platform.indexer.index_records(conn, {"achievements": [achievement_id]})
        hits = platform.indexer.search("achievements", conn=conn, text=title, mode="lexical")
    return achievement_id in {h.record_id for h in hits}


def test_expert_edits_then_withdraws_and_restores_an_achievement(
    browser_as, csrf_of, db, platform, world, work
):
    expert, enterprise = browser_as("expert"), browser_as("enterprise")
    aid, ext = work["id"], work["external_id"]
    mine = expert.get("/expert/achievements").text
    assert f'href="/achievements/{ext}/edit"' in mine
    assert f'action="/achievements/{ext}/withdraw"' in mine
    form = expert.get(f"/achievements/{ext}/edit")
    assert form.status_code == 200 and work["title"] in form.text

    empty = _post(expert, csrf_of, f"/achievements/{ext}/edit", title="", abstract="x")
    assert empty.status_code == 422
    assert 'id="f-title-error" data-field="title">此项必填<' in empty.text

    saved = _post(
        expert, csrf_of, f"/achievements/{ext}/edit",
        title=f"{work['title']}（改）", abstract="改过的摘要", kind="patent", year="2025",
    )  # fmt: skip
    assert saved.status_code == 303
    assert saved.headers["location"] == "/expert/achievements?ok=flash.achievement_saved"
    assert "成果已保存" in expert.get(saved.headers["location"]).text
    with db.session() as conn:
        row = conn.execute("SELECT * FROM achievements WHERE id = %s", (aid,)).fetchone()
    assert (row["title"], row["kind"], row["year"]) == (f"{work['title']}（改）", "patent", 2025)
    assert _found(platform, db, row["title"], aid)

    withdrawn = _post(expert, csrf_of, f"/achievements/{ext}/withdraw")
    assert withdrawn.status_code == 303
    page = expert.get(withdrawn.headers["location"]).text
    listed = page[page.index('id="withdrawn-achievements"') :]
    assert "成果已撤回" in page and row["title"] in listed
    with db.session() as conn:
        row = conn.execute("SELECT * FROM achievements WHERE id = %s", (aid,)).fetchone()
        logged = conn.execute(
            "SELECT actor FROM audit_log WHERE action = 'withdraw' AND record_id = %s", (aid,)
        ).fetchall()
    assert row["status"] == "withdrawn" and row["withdrawn_at"] is not None
    assert [r["actor"] for r in logged] == [world.usernames["expert"]]
    # Gone for everyone else: the page, the expert's public list, search.
    assert enterprise.get(f"/achievements/{ext}").status_code == 404
    public = enterprise.get(f"/experts/{world.expert_a}").text
    assert row["title"] not in public
    assert not _found(platform, db, row["title"], aid)
    # Its expert still sees it, and publishes it again.
    assert expert.get(f"/achievements/{ext}").status_code == 200
    restored = _post(expert, csrf_of, f"/achievements/{ext}/restore")
    assert restored.status_code == 303
    assert enterprise.get(f"/achievements/{ext}").status_code == 200
    assert _found(platform, db, row["title"], aid)


def test_staff_manage_achievements_in_their_region_only(browser_as, csrf_of, db, work):
    aid = work["external_id"]
    own_center, other_center = browser_as("subcenter_admin"), browser_as("subcenter_b")
    assert 'id="withdraw-achievement"' in own_center.get(f"/achievements/{aid}").text
    assert own_center.get(f"/achievements/{aid}/edit").status_code == 200
    assert 'id="edit-achievement"' not in other_center.get(f"/achievements/{aid}").text
    assert other_center.get(f"/achievements/{aid}/edit").status_code == 403
    assert _post(other_center, csrf_of, f"/achievements/{aid}/withdraw").status_code == 403
    assert browser_as("enterprise").get(f"/achievements/{aid}/edit").status_code == 403
    # Staff land back on the achievement's page, not on an expert's own list.
    done = _post(own_center, csrf_of, f"/achievements/{aid}/withdraw")
    assert done.headers["location"] == f"/achievements/{aid}?ok=flash.achievement_withdrawn"
    page = own_center.get(done.headers["location"]).text
    assert "已撤回" in page and 'id="restore-achievement"' in page


def test_headings_say_whose_achievements_they_are(browser_as, db, world, build):
    expert = browser_as("expert")
    with db.session() as conn:
        other = build.expert(conn, region=world.region_b)
        conn.execute("UPDATE experts SET name = '王建国' WHERE id = %s", (other["id"],))
    own_id = world.expert_a
    heading = re.compile(r'id="expert-achievements">\s*<h2>([^<]+)</h2>')
    assert heading.search(expert.get(f"/experts/{own_id}").text).group(1) == "我的成果"
    assert (
        heading.search(expert.get(f"/experts/{other['external_id']}").text).group(1)
        == "王建国的成果"
    )
    admin = browser_as("platform_admin")
    admin.cookies.set("gp_lang", "en")
    page = admin.get(f"/experts/{other['external_id']}").text
    assert heading.search(page).group(1) == "Achievements of 王建国"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_pages_offer_templates_with_the_contract_columns(browser_as, fmt):
    expert, admin = browser_as("expert"), browser_as("platform_admin")
    assert (
        f'href="/imports/templates/achievements.{fmt}"' in expert.get("/expert/achievements").text
    )
    admin_page = admin.get("/admin/import").text
    for library in ("problems", "achievements", "experts"):
        assert f'href="/imports/templates/{library}.{fmt}"' in admin_page
    response = expert.get(f"/imports/templates/achievements.{fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    contract = [
        "external_id", "title", "abstract", "keywords", "kind", "discipline", "year",
        "organization", "expert_ids",
    ]  # fmt: skip
    if fmt == "csv":
        header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert header == contract
    else:
        book = load_workbook(io.BytesIO(response.content))
        first = book.worksheets[0]
        assert [c.value for c in first[1]] == contract
        guide = {row[0]: row for row in book["说明"].iter_rows(min_row=2, values_only=True)}
        assert guide["abstract"][1:3] == ("摘要", "是")
    assert expert.get(f"/imports/templates/nonsense.{fmt}").status_code == 422
    assert expert.get("/imports/templates/problems.pdf").status_code == 422


def test_chinese_headers_import_and_the_report_downloads(browser_as, csrf_of, db, world, build):
    client = browser_as("platform_admin")
    good = f"ZH-{build.uid()}"
    body = (
        "外部编号,标题,描述,关键词,地区,预算（万元）\n"
        f"{good},中文表头导入的需求,窑炉余热回收,余热;节能,{world.region_a},30\n"
        f"ZH-{build.uid()},,缺标题,,,\n"
        f"ZH-{build.uid()},预算错,描述,,,很多\n"
    )
    response = client.post(
        "/admin/import",
        data={"csrf": csrf_of(client), "library": "problems"},
        files={"file": ("中文表头.csv", body.encode("utf-8-sig"), "text/csv")},
    )
    page = finished_job_page(client, response)
    assert 'id="created">1<' in page and 'id="rejected">2<' in page
    with db.session() as conn:
        row = conn.execute("SELECT * FROM problems WHERE external_id = %s", (good,)).fetchone()
    assert (row["title"], row["keywords"], float(row["budget_wan"])) == (
        "中文表头导入的需求",
        ["余热", "节能"],
        30.0,
    )
    job = response.url.path
    assert f'href="{job}/report.csv"' in page and f'href="{job}/report.xlsx"' in page

    report = client.get(f"{job}/report.csv")
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["行号", "字段", "原因", "external_id"]
    assert [r[:3] for r in rows[1:]] == [
        ["3", "标题", "title: 必填"],
        ["4", "预算（万元）", "budget_wan: 须为数字"],
    ]
    budget = rows[0].index("budget_wan")
    assert rows[2][budget] == "很多"  # the value as the file held it

    client.cookies.set("gp_lang", "en")
    book = load_workbook(io.BytesIO(client.get(f"{job}/report.xlsx").content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["row", "field", "reason"]
    assert [c.value for c in sheet[2]][1:3] == ["Title", "title: required"]
    # The report is the job's: another account learns nothing of it.
    assert browser_as("subcenter_admin").get(f"{job}/report.csv").status_code == 404


@pytest.fixture(scope="module")
def gap_region(db, build):
    """A region with problems in March and June 2026 only, and its sub-center account."""
    tag = build.uid()
    name = f"空月省{tag}"
    with db.session() as conn:
        regions.upsert_region(
            conn=conn, data=RegionCreate(code=f"G{tag}", name=name, subcenter_name=f"{name}中心")
        )
        for month in (3, 6):
            row = build.problem(conn, region=name, status="approved", industry="新能源")
            conn.execute(
                "UPDATE problems SET created_at = %s WHERE id = %s",
                (datetime(2026, month, 10, tzinfo=UTC), row["id"]),
            )
        from greenplat.core.accounts import service as accounts

        accounts.create_user(
            conn=conn,
            username=f"gap-{tag}",
            password=build.PASSWORD,
            role="subcenter_admin",
            region=name,
        )
    return {"name": name, "username": f"gap-{tag}"}


def test_month_chart_shows_every_month_with_a_table_beside_it(app, gap_region, login_form, build):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        client.post("/login", data=login_form(client, gap_region["username"], build.PASSWORD))
        page = client.get("/stats").text
        wide = client.get("/stats", params={"since": "2026-01-01", "until": "2026-08-31"}).text
    table = page[page.index('<details class="chart-table">') :]
    table = table[: table.index("</details>")]
    months = re.findall(r'<th scope="row">(\d{4}-\d{2})</th>((?:<td>[^<]*</td>)+)', table)
    assert [(m, re.findall(r"<td>([^<]*)</td>", cells)[0]) for m, cells in months] == [
        ("2026-03", "1"), ("2026-04", "0"), ("2026-05", "0"), ("2026-06", "1"),
    ]  # fmt: skip
    assert "<summary>以表格查看数字</summary>" in page
    # The chart is drawn at its natural size: width and height equal to its viewBox.
    svg = re.search(r'<svg class="chart" role="img" width="(\d+)" height="(\d+)" '
                    r'viewBox="0 0 (\d+) (\d+)"', page)  # fmt: skip
    assert svg and svg.group(1) == svg.group(3) and svg.group(2) == svg.group(4)
    assert 'class="chart-frame" role="region" tabindex="0"' in page
    wide_months = re.findall(r'<th scope="row">(2026-\d{2})</th>', wide)
    assert wide_months[:8] == [f"2026-{m:02d}" for m in range(1, 9)]


def test_favicon_is_served_and_linked(anonymous):
    icon = anonymous.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert anonymous.get("/static/favicon.svg").status_code == 200
    assert '<link rel="icon" href="/favicon.ico"' in anonymous.get("/login").text
