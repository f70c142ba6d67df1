"""The expert's and the platform admin's pages over HTTP, and the one translation catalogue."""

from __future__ import annotations

import json
import re
import time
from importlib import resources
from pathlib import Path

from greenplat.api.web.i18n import LANGUAGES, catalogue


def test_expert_edits_profile_and_disciplines(browser_as, csrf_of, db, world):
    client = browser_as("expert")
    assert 'id="profile-form"' in client.get("/expert/profile").text
    response = client.post(
        "/expert/profile",
        data={
            "csrf": csrf_of(client),
            "name": "王测试",
            "disciplines": ["热能工程", "材料科学与工程"],
            "keywords": "余热;换热",
            "capacity": "3",
            "region": world.region_a,
        },
    )
    assert response.status_code == 200 and "资料已保存" in response.text
    with db.session() as conn:
        row = conn.execute(
            "SELECT * FROM experts WHERE external_id = %s", (world.expert_a,)
        ).fetchone()
    # 热能工程 is an alias in the discipline list: stored as the list's name.
    assert row["disciplines"] == ["动力工程及工程热物理", "材料科学与工程"]
    assert row["capacity"] == 3
    unknown = client.post(
        "/expert/profile",
        data={"csrf": csrf_of(client), "name": "王测试", "disciplines": "储能玄学"},
    )
    assert (
        unknown.status_code == 422
        and 'id="f-disciplines-error">disciplines: 学科「储能玄学」' in unknown.text
    )
    bad = client.post(
        "/expert/profile", data={"csrf": csrf_of(client), "name": "", "capacity": "-1"}
    )
    assert bad.status_code == 422
    errors = dict(re.findall(r'data-field="(\w+)">([^<]+)<', bad.text))
    assert set(errors) == {"name", "capacity"}


def test_expert_adds_an_achievement_and_is_among_its_experts(browser_as, csrf_of, db, world):
    client = browser_as("expert")
    response = client.post(
        "/expert/achievements",
        data={
            "csrf": csrf_of(client),
            "title": "一种板式换热器防结垢涂层",
            "abstract": "涂层使结垢速率降低 60%。",
            "kind": "patent",
            "year": "2024",
        },
    )
    assert response.status_code == 200 and "一种板式换热器防结垢涂层" in response.text
    with db.session() as conn:
        row = conn.execute(
            "SELECT * FROM achievements WHERE title = '一种板式换热器防结垢涂层'"
        ).fetchone()
    assert world.expert_a in row["expert_ids"]


def finished_job_page(client, response) -> str:
    """The job page an import redirected to, once the job has finished (as the page polls)."""
    assert response.status_code == 200, response.text
    path = response.url.path
    assert re.fullmatch(r"/imports/\d+", path), path
    assert f'data-poll="{path}/status"' in response.text
    deadline = time.monotonic() + 60
    while "data-final" not in client.get(f"{path}/status").text:
        assert time.monotonic() < deadline, "the import job did not finish"
        time.sleep(0.1)
    return client.get(path).text


def test_expert_imports_a_list_keeping_good_rows_and_reporting_bad(
    browser_as, csrf_of, db, world, build
):
    client = browser_as("expert")
    good = f"IMP-{build.uid()}"
    lines = [
        {"external_id": good, "title": "导入成果一", "abstract": "摘要", "kind": "paper"},
        {"external_id": f"IMP-{build.uid()}", "title": "缺摘要"},
        {"external_id": f"IMP-{build.uid()}", "title": "年份错", "abstract": "x", "year": 1200},
    ]
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    response = client.post(
        "/expert/achievements/import",
        data={"csrf": csrf_of(client)},
        files={"file": ("mine.jsonl", body.encode(), "application/json")},
    )
    page = finished_job_page(client, response)
    assert 'id="created">1<' in page and 'id="rejected">2<' in page
    report = page[page.index('id="import-report"') :]
    assert re.search(r"<td>2</td><td>abstract", report)
    assert re.search(r"<td>3</td><td>year", report)
    with db.session() as conn:
        row = conn.execute("SELECT * FROM achievements WHERE external_id = %s", (good,)).fetchone()
    assert row is not None and world.expert_a in row["expert_ids"]
    # The job is the expert's own: another account learns nothing of it.
    assert browser_as("subcenter_admin").get(response.url.path).status_code == 404


def test_expert_import_refuses_a_file_of_another_kind(browser_as, csrf_of):
    client = browser_as("expert")
    response = client.post(
        "/expert/achievements/import",
        data={"csrf": csrf_of(client)},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 422
    assert "file" in response.text


def test_admin_bulk_import_shows_the_error_report(browser_as, csrf_of, db, world, build):
    client = browser_as("platform_admin")
    ok = f"EXP-{build.uid()}"
    body = (
        "external_id,name,disciplines,region\n"
        f"{ok},李导入,热能工程;材料,{world.region_a}\n"
        f"EXP-{build.uid()},,化学,\n"
    )
    response = client.post(
        "/admin/import",
        data={"csrf": csrf_of(client), "library": "experts"},
        files={"file": ("experts.csv", body.encode(), "text/csv")},
    )
    page = finished_job_page(client, response)
    assert 'id="created">1<' in page and 'id="rejected">1<' in page
    assert re.search(r"<td>3</td><td>name", page)
    recent = client.get("/admin/import").text
    assert f'<a href="{response.url.path}">experts.csv</a>' in recent
    with db.session() as conn:
        row = conn.execute("SELECT * FROM experts WHERE external_id = %s", (ok,)).fetchone()
    # Aliases of the discipline list are stored as the list's names.
    assert row["disciplines"] == ["动力工程及工程热物理", "材料科学与工程"]


def test_a_long_report_is_paged(browser_as, csrf_of, build):
    client = browser_as("platform_admin")
    rows = "".join(f"EXP-{build.uid()},,化学,\n" for _ in range(130))
    response = client.post(
        "/admin/import",
        data={"csrf": csrf_of(client), "library": "experts"},
        files={"file": ("experts.csv", f"external_id,name,x,y\n{rows}".encode(), "text/csv")},
    )
    page = finished_job_page(client, response)
    assert page.count("<tr><td>") == 100 and 'id="next-page"' in page
    second = client.get(response.url.path, params={"page": 2}).text
    assert second.count("<tr><td>") == 30 and 'id="prev-page"' in second


def test_the_job_page_polls_from_the_static_script_not_inline():
    script = resources.files("greenplat.api.web") / "static" / "app.js"
    assert "[data-poll]" in script.read_text("utf-8")
    template = resources.files("greenplat.api.web") / "templates" / "imports" / "job.html"
    assert "<script" not in template.read_text("utf-8")


def test_admin_import_names_an_unknown_library(browser_as, csrf_of):
    client = browser_as("platform_admin")
    response = client.post(
        "/admin/import",
        data={"csrf": csrf_of(client), "library": "gossip"},
        files={"file": ("x.jsonl", b"{}\n", "application/json")},
    )
    assert response.status_code == 422
    assert 'id="f-library-error">未知的库 gossip' in response.text


def test_admin_adds_a_region_and_a_subcenter_admin_for_it(browser_as, csrf_of, db, build):
    client = browser_as("platform_admin")
    tag = build.uid()
    name = f"新省{tag}"
    response = client.post(
        "/admin/regions",
        data={
            "csrf": csrf_of(client),
            "code": f"N{tag}",
            "name": name,
            "subcenter_name": f"{name}分中心",
        },
    )
    assert response.status_code == 200 and name in response.text
    response = client.post(
        "/admin/users",
        data={
            "csrf": csrf_of(client),
            "username": f"center-{tag}",
            "password": "long-enough-1",
            "role": "subcenter_admin",
            "region": name,
        },
    )
    assert response.status_code == 200 and f"center-{tag}" in response.text
    regions_page = client.get("/admin/regions").text
    assert f"center-{tag}" in regions_page  # listed as the region's sub-center admin
    refused = client.post(
        "/admin/users",
        data={
            "csrf": csrf_of(client),
            "username": f"nowhere-{tag}",
            "password": "long-enough-1",
            "role": "subcenter_admin",
        },
    )
    assert refused.status_code == 422
    assert "须指定地区" in refused.text
    with db.session() as conn:
        assert not conn.execute(
            "SELECT 1 FROM users WHERE username = %s", (f"nowhere-{tag}",)
        ).fetchone()


def test_admin_switches_an_account_off(browser_as, csrf_of, app, build, db, login_form):
    from fastapi.testclient import TestClient

    from greenplat.core.accounts import service as accounts

    username = f"off-{build.uid()}"
    with db.session() as conn:
        user = accounts.create_user(
            conn=conn, username=username, password=build.PASSWORD, role="enterprise"
        )
    admin = browser_as("platform_admin")
    asked = admin.post(
        f"/admin/users/{user.id}", data={"csrf": csrf_of(admin), "role": "enterprise"}
    )
    # Switching an account off is asked about first; the confirmation applies it.
    assert asked.status_code == 200 and 'id="confirm-active"' in asked.text
    response = admin.post(
        f"/admin/users/{user.id}",
        data={"csrf": csrf_of(admin), "role": "enterprise", "confirmed": "1"},
    )
    assert response.status_code == 200
    with TestClient(app) as client:
        page = client.post("/login", data=login_form(client, username, build.PASSWORD))
    assert page.status_code == 422


def test_search_finds_records_the_viewer_may_see(browser_as, db, world, build):
    with db.session() as conn:
        build.problem(
            conn,
            region=world.region_a,
            organization=world.org_other,
            status="draft",
            title=f"草稿{world.tag}",
        )
    client = browser_as("enterprise")
    browse = client.get("/search", params={"library": "problems", "region": world.region_a})
    assert browse.status_code == 200
    assert f"草稿{world.tag}" not in browse.text  # another enterprise's draft
    experts = client.get("/search", params={"library": "experts", "region": world.region_b})
    assert f"专家{world.expert_b}" in experts.text
    assert client.get("/search", params={"library": "gossip"}).status_code == 422


def _keys_used() -> set[str]:
    root = Path(str(resources.files("greenplat.api.web")))
    pattern = re.compile(r"""\bt\(\s*['"]([a-z_]+\.[a-z0-9_]+)['"]\s*[,)]""")
    keys: set[str] = set()
    for path in [*root.rglob("*.html"), *root.rglob("*.py")]:
        keys |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return keys


def test_every_text_used_is_in_the_catalogue_in_both_languages():
    entries = catalogue()
    used = _keys_used()
    assert len(used) > 100
    assert sorted(used - set(entries)) == []
    for key, texts in entries.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
    # Keys built at run time: statuses, roles, kinds, feedback actions, libraries.
    for prefix in ("status.", "role.", "kind.", "feedback.", "library."):
        assert any(k.startswith(prefix) for k in entries)


def test_templates_hold_no_untranslated_chinese():
    root = Path(str(resources.files("greenplat.api.web"))) / "templates"
    han = re.compile(r"[\u4e00-\u9fff]")
    for path in root.rglob("*.html"):
        assert not han.search(path.read_text(encoding="utf-8")), path.name
