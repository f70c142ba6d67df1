"""Portal pages for reference lists, import reports, merges and the audit log."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import unquote

from openpyxl import load_workbook

from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.permissions import SYSTEM


def _import(client, csrf_of, body: str):
    """The import's job page once the job has finished (imports run as jobs)."""
    response = client.post(
        "/admin/import",
        data={"csrf": csrf_of(client), "library": "problems"},
        files={"file": ("problems.csv", body.encode(), "text/csv")},
    )
    path = response.url.path
    deadline = time.monotonic() + 60
    while "data-final" not in client.get(f"{path}/status").text:
        assert time.monotonic() < deadline, "the import job did not finish"
        time.sleep(0.1)
    return client.get(path)


def test_an_import_report_shows_mapped_and_unknown_values_and_adds_an_alias(
    browser_as, csrf_of, build
):
    admin = browser_as("platform_admin")
    tag = build.uid()
    body = "external_id,title,description,region\n" + "".join(
        f"P-W-{tag}-{i},题{i},描述,{region}\n"
        for i, region in enumerate(["江苏", "Jiangsu", f"火星{tag}"])
    )
    report = _import(admin, csrf_of, body)
    assert report.status_code == 200
    mapped = report.text[report.text.index('id="mapped"') :]
    assert "<td>江苏</td><td>江苏省</td><td>1</td>" in mapped
    unknown = report.text[report.text.index('id="unknown"') :]
    assert f"火星{tag}" in unknown and 'action="/admin/reference/aliases"' in unknown
    added = admin.post(
        "/admin/reference/aliases",
        data={
            "csrf": csrf_of(admin),
            "kind": "region",
            "alias": f"火星{tag}",
            "canonical": "江西省",
        },
    )
    assert added.status_code == 200 and "别名已添加" in added.text
    again = _import(admin, csrf_of, body.replace(f"P-W-{tag}", f"P-W2-{tag}"))
    assert 'id="created">3<' in again.text


def test_a_merge_is_previewed_then_confirmed(browser_as, csrf_of, db, build, world):
    admin = browser_as("platform_admin")
    with db.session() as conn:
        row = build.problem(conn, region=world.region_a, industry=f"旧行业{build.uid()}")
    form = {
        "csrf": csrf_of(admin),
        "kind": "industry",
        "source": row["industry"],
        "target": "新材料",
    }
    preview = admin.post("/admin/reference/merge", data=form)
    assert preview.status_code == 200
    assert row["external_id"] in preview.text and 'id="confirm-merge"' in preview.text
    done = admin.post("/admin/reference/merge", data={**form, "expected": "1"})
    assert "已合并" in done.text
    with db.session() as conn:
        moved = conn.execute("SELECT industry FROM problems WHERE id = %s", (row["id"],)).fetchone()
    assert moved["industry"] == "新材料"


def test_audit_pages_by_role_and_a_chinese_xlsx_export(browser_as, world):
    admin = browser_as("platform_admin")
    page = admin.get("/admin/audit", params={"action": "merge"})
    assert page.status_code == 200 and 'id="audit"' in page.text
    assert browser_as("enterprise").get("/admin/audit").status_code == 403
    center = browser_as("subcenter_admin").get("/admin/audit")
    regions_shown = set(re.findall(r"<td>([^<]*)</td><td>(?:\d*)</td></tr>", center.text))
    assert regions_shown <= {world.region_a, ""}
    export = admin.get("/admin/audit/export.xlsx", params={"action": "login"})
    assert export.status_code == 200
    disposition = export.headers["content-disposition"]
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"审计日志-\d{4}-\d{2}-\d{2}\.xlsx", name)
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.title == "审计日志" and sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:4] == ["时间", "操作人", "角色", "操作"]
    assert {c.value for c in sheet["D"][1:]} <= {"登录"}
    assert sheet.column_dimensions["A"].width >= 10


def test_the_problem_form_offers_industries_from_the_list(browser_as):
    form = browser_as("enterprise").get("/enterprise/problems/new").text
    assert '<select id="f-industry" name="industry">' in form
    assert '<option value="信息产业">信息产业</option>' in form


def test_a_poster_sees_the_duplicate_warning_before_submitting(browser_as, csrf_of, db, world):
    client = browser_as("enterprise")
    title, text = (
        "窑炉烟气余热回收利用",
        "需要回收窑炉300℃烟气余热用于原料预热，降低天然气消耗15%以上。",
    )
    with db.session() as conn:
        first = conn.execute(
            "INSERT INTO problems (external_id, title, description, organization, region, status)"
            " VALUES (%s, %s, %s, %s, %s, 'approved') RETURNING external_id",
            (f"PRB-W{id(client)}", title, text, world.org_a, world.region_a),
        ).fetchone()["external_id"]
    form = {
        "csrf": csrf_of(client),
        "title": title,
        "description": text + "请尽快联系。",
        "action": "submit",
    }
    try:
        warned = client.post("/enterprise/problems/new", data=form)
        assert warned.status_code == 422
        assert f"与已有需求 {first} 高度相似" in warned.text
        assert 'id="f-confirm-duplicate"' in warned.text
        confirmed = client.post(
            "/enterprise/problems/new", data={**form, "confirm_duplicate": "on"}
        )
        assert confirmed.status_code == 200 and "已提交" in confirmed.text
    finally:
        with db.session() as conn:
            conn.execute(
                "DELETE FROM problems WHERE organization = %s AND title = %s", (world.org_a, title)
            )


def test_a_sub_center_exports_its_regions_library_in_each_format(browser_as, world):
    center = browser_as("subcenter_admin")
    page = center.get("/exports")
    assert page.status_code == 200 and 'id="export-experts-xlsx"' in page.text
    for fmt in ("jsonl", "csv", "xlsx"):
        response = center.get(f"/exports/experts.{fmt}")
        assert response.status_code == 200, fmt
        name = unquote(response.headers["content-disposition"].split("filename*=UTF-8''")[1])
        assert name.startswith(f"{world.region_a}-专家库-") and name.endswith(f".{fmt}")
    lines = center.get("/exports/experts.jsonl").text.splitlines()
    assert lines and all(world.region_b not in line for line in lines)
    assert browser_as("enterprise").get("/exports/experts.csv").status_code == 403
    assert center.get("/exports/experts.pdf").status_code == 422


def test_pages_show_the_external_id_as_the_records_id(browser_as, db, build, world):
    with db.session() as conn:
        row = build.problem(conn, region=world.region_a, organization=world.org_a)
    page = browser_as("subcenter_admin").get(f"/problems/{row['external_id']}").text
    assert f'<span id="problem-external-id">{row["external_id"]}</span>' in page
    records = browser_as("subcenter_admin").get("/stats/records").text
    assert f"<td>{row['external_id']}</td>" in records


def test_a_change_made_in_the_portal_names_its_actor(browser_as, csrf_of, db, world):
    client = browser_as("enterprise")
    form = {"csrf": csrf_of(client), "title": f"门户审计{id(client)}",
            "description": "需要一种新的密封材料。", "action": "draft"}  # fmt: skip
    saved = client.post("/enterprise/problems/new", data=form)
    assert saved.status_code == 200
    external_id = re.search(r"/problems/(P-[0-9a-f]+)", str(saved.url)).group(1)
    with db.session() as conn:
        entry = conn.execute(
            "SELECT actor, actor_role FROM audit_log WHERE library = 'problems'"
            " AND external_id = %s AND action = 'insert'",
            (external_id,),
        ).fetchone()
    assert (entry["actor"], entry["actor_role"]) == (world.usernames["enterprise"], "enterprise")


def test_a_sub_center_merges_a_suspected_pair_in_the_portal(browser_as, csrf_of, db, build, world):
    tag = build.uid()
    text = (
        "光伏电池片清洗废水氟离子浓度约200 mg/L，需要降到8 mg/L以下，同时控制污泥产量和药剂成本。"
    )
    rows = [
        Row(1, {"external_id": f"DP-{tag}-1", "title": "含氟废水深度处理", "description": text,
                "organization": f"光伏{tag}", "region": world.region_a, "status": "submitted"}),
        Row(2, {"external_id": f"DP-{tag}-2", "title": "含氟废水深度处理需求",
                "description": text + "欢迎联系。", "organization": f"光伏{tag}",
                "region": world.region_a, "status": "submitted"}),
    ]  # fmt: skip
    with db.session() as conn:
        report = interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    assert [s.external_id for _, s in report.duplicates] == [f"DP-{tag}-1"]
    center = browser_as("subcenter_admin")
    page = center.get("/subcenter/duplicates")
    assert f"DP-{tag}-2" in page.text
    assert f"DP-{tag}-2" not in browser_as("subcenter_b").get("/subcenter/duplicates").text
    done = center.post(
        "/subcenter/duplicates",
        data={"csrf": csrf_of(center), "library": "problems", "record": f"DP-{tag}-2",
              "other": f"DP-{tag}-1", "decision": "merged"},
    )  # fmt: skip
    assert done.status_code == 200 and f"DP-{tag}-2" not in done.text
    with db.session() as conn:
        merged = conn.execute(
            "SELECT a.merged_into = b.id AS ok FROM problems a, problems b"
            " WHERE a.external_id = %s AND b.external_id = %s",
            (f"DP-{tag}-2", f"DP-{tag}-1"),
        ).fetchone()
    assert merged["ok"]


def test_an_achievements_discipline_comes_from_the_list(browser_as, csrf_of, db, world):
    client = browser_as("expert")
    page = client.get("/expert/achievements").text
    assert '<select id="f-discipline" name="discipline">' in page
    form = {"csrf": csrf_of(client), "title": f"成果{id(client)}", "abstract": "一种新材料。",
            "kind": "patent"}  # fmt: skip
    refused = client.post("/expert/achievements", data={**form, "discipline": "炼金术"})
    assert refused.status_code == 422
    assert 'id="f-discipline-error">discipline: 学科「炼金术」' in refused.text
    added = client.post("/expert/achievements", data={**form, "discipline": "材料科学"})
    assert added.status_code == 200
    with db.session() as conn:
        row = conn.execute(
            "SELECT discipline FROM achievements WHERE title = %s", (form["title"],)
        ).fetchone()
    assert row["discipline"] == "材料科学与工程"
