"""Portal pages over HTTP: sign-in, posting, review, and the permission table on every page."""

from __future__ import annotations

import re

import pytest

from greenplat.core.problems import service as problems


def _status(db, external_id: str) -> str:
    with db.session() as conn:
        return conn.execute(
            "SELECT status FROM problems WHERE external_id = %s", (external_id,)
        ).fetchone()["status"]


def test_anonymous_viewer_is_sent_to_sign_in(anonymous):
    response = anonymous.get("/enterprise/problems")
    assert response.url.path == "/login"
    assert "next=/enterprise/problems" in str(response.url).replace("%2F", "/")
    assert 'id="login-submit"' in response.text


def test_wrong_password_is_refused_with_a_message(anonymous, world, login_form):
    form = login_form(anonymous, world.usernames["enterprise"], "wrong-password")
    response = anonymous.post("/login", data=form)
    assert response.status_code == 422
    assert "用户名或密码错误" in response.text
    assert "gp_session" not in response.cookies


def test_sign_up_makes_an_enterprise_account_and_signs_it_in(anonymous, world, build, csrf_of):
    username = f"new-{build.uid()}"
    response = anonymous.post(
        "/signup",
        data={
            "csrf": csrf_of(anonymous, "/signup"),
            "organization": f"新企业{username}",
            "region": world.region_a,
            "username": username,
            "password": "long-enough-1",
            "password2": "long-enough-1",
        },
    )
    assert response.status_code == 200
    assert response.url.path == "/enterprise/problems"
    assert f"{username} · 企业" in response.text


def test_sign_up_without_a_region_is_refused(anonymous, world, build, csrf_of):
    form = {"organization": "无地区企业", "username": f"nr-{build.uid()}"}
    form |= {"password": "long-enough-1", "password2": "long-enough-1"}
    form["csrf"] = csrf_of(anonymous, "/signup")
    response = anonymous.post("/signup", data=form)
    assert response.status_code == 422
    assert "请选择所在地区" in response.text
    assert '<select id="f-region" name="region" required>' in response.text
    assert "gp_session" not in response.cookies


def test_sign_up_names_the_bad_fields(anonymous, csrf_of):
    response = anonymous.post(
        "/signup",
        data={
            "csrf": csrf_of(anonymous, "/signup"),
            "organization": "",
            "username": "x",
            "password": "short",
            "password2": "short",
        },
    )
    assert response.status_code == 422
    errors = dict(re.findall(r'data-field="(\w+)">([^<]+)<', response.text))
    assert set(errors) >= {"organization", "username", "password"}


def test_enterprise_saves_a_draft_then_submits_it(browser_as, csrf_of, db, world):
    client = browser_as("enterprise")
    form = {
        "csrf": csrf_of(client),
        "title": "注塑件表面银纹缺陷",
        "description": "PC 注塑件表面出现银纹，良率 92%，希望提升到 99%。",
        "keywords": "注塑；银纹",
        "budget_wan": "30",
        "deadline": "2027-06-30",
    }
    response = client.post("/enterprise/problems/new", data={**form, "action": "draft"})
    assert response.status_code == 200
    problem_id = re.search(r"/problems/(P-[0-9a-f]+)", str(response.url)).group(1)
    assert "草稿已保存" in response.text
    assert _status(db, problem_id) == "draft"

    form["title"] = "注塑件表面银纹缺陷（改）"
    response = client.post(f"/problems/{problem_id}/edit", data={**form, "action": "submit"})
    assert response.status_code == 200
    assert "已提交，等待分中心审核" in response.text
    assert _status(db, problem_id) == "submitted"
    with db.session() as conn:
        row = conn.execute(
            "SELECT * FROM problems WHERE external_id = %s", (problem_id,)
        ).fetchone()
    assert row["organization"] == world.org_a and row["region"] == world.region_a
    assert row["keywords"] == ["注塑", "银纹"]


def test_problem_form_names_each_bad_field_and_stores_nothing(browser_as, csrf_of, db, world):
    client = browser_as("enterprise")
    with db.session() as conn:
        before = conn.execute(
            "SELECT count(*) AS n FROM problems WHERE organization = %s", (world.org_a,)
        ).fetchone()["n"]
    response = client.post(
        "/enterprise/problems/new",
        data={
            "csrf": csrf_of(client),
            "title": "",
            "description": "有描述",
            "budget_wan": "-3",
            "deadline": "明天",
            "action": "submit",
        },
    )
    assert response.status_code == 422
    errors = dict(re.findall(r'data-field="(\w+)">([^<]+)<', response.text))
    assert errors == {
        "title": "此项必填",
        "budget_wan": "数值超出范围",
        "deadline": errors["deadline"],
    }
    assert "日期" in errors["deadline"]
    assert 'value="有描述"' not in response.text  # a textarea keeps its text as content
    assert "有描述</textarea>" in response.text
    with db.session() as conn:
        after = conn.execute(
            "SELECT count(*) AS n FROM problems WHERE organization = %s", (world.org_a,)
        ).fetchone()["n"]
    assert after == before


def test_a_form_without_its_token_is_refused(browser_as, db, world):
    client = browser_as("enterprise")
    response = client.post(
        "/enterprise/problems/new",
        data={"title": "跨站提交", "description": "不应保存", "action": "draft"},
    )
    assert response.status_code == 422
    assert "csrf" in response.text
    with db.session() as conn:
        assert not conn.execute("SELECT 1 FROM problems WHERE title = '跨站提交'").fetchone()


@pytest.fixture
def others(db, world, build):
    """Problems of another enterprise in region A, and a submitted one in region B."""
    with db.session() as conn:
        secret = build.problem(
            conn,
            region=world.region_a,
            organization=world.org_other,
            confidential=True,
            description="保密工艺：钛合金激光熔覆参数窗口",
            owner=world.users["enterprise2"],
        )
        draft = build.problem(
            conn, region=world.region_a, organization=world.org_other, status="draft"
        )
        far = build.problem(conn, region=world.region_b, status="submitted", title="乙省待审需求")
    return {"secret": secret, "draft": draft, "far": far}


def test_an_enterprise_sees_another_enterprises_confidential_problem_only_redacted(
    browser_as, others
):
    client = browser_as("enterprise")
    page = client.get(f"/problems/{others['secret']['external_id']}")
    assert page.status_code == 200
    assert 'id="redacted"' in page.text
    assert "钛合金激光熔覆" not in page.text
    assert others["secret"]["organization"] not in page.text
    assert client.get(f"/problems/{others['secret']['external_id']}/edit").status_code in (403, 404)
    # Its owner sees it whole.
    owner = browser_as("enterprise2").get(f"/problems/{others['secret']['external_id']}")
    assert "钛合金激光熔覆" in owner.text


def test_an_enterprise_cannot_open_another_enterprises_draft(browser_as, others):
    client = browser_as("enterprise")
    page = client.get(f"/problems/{others['draft']['external_id']}")
    assert page.status_code == 404
    assert others["draft"]["title"] not in page.text


def test_a_subcenter_cannot_review_another_regions_problem(browser_as, csrf_of, db, others):
    client = browser_as("subcenter_admin")
    queue = client.get("/subcenter/review")
    assert "乙省待审需求" not in queue.text
    far = others["far"]["external_id"]
    assert client.get(f"/problems/{far}").status_code == 404
    response = client.post(
        f"/subcenter/review/{far}", data={"csrf": csrf_of(client), "decision": "approve"}
    )
    assert response.status_code == 404
    assert _status(db, far) == "submitted"
    # The region's own sub-center may.
    own = browser_as("subcenter_b")
    assert "乙省待审需求" in own.get("/subcenter/review").text
    response = own.post(
        f"/subcenter/review/{far}", data={"csrf": csrf_of(own), "decision": "approve"}
    )
    assert response.status_code == 200 and "已通过审核" in response.text
    assert _status(db, far) == "approved"


def test_returning_a_problem_needs_a_comment_the_enterprise_then_sees(
    browser_as, csrf_of, db, world, build
):
    with db.session() as conn:
        row = build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            status="submitted",
            owner=world.users["enterprise"],
        )
    admin = browser_as("subcenter_admin")
    token = csrf_of(admin)
    response = admin.post(
        f"/subcenter/review/{row['external_id']}", data={"csrf": token, "decision": "return"}
    )
    assert response.status_code == 422
    assert "退回时须填写意见" in response.text
    assert _status(db, row["external_id"]) == "submitted"
    response = admin.post(
        f"/subcenter/review/{row['external_id']}",
        data={"csrf": token, "decision": "return", "comment": "请补充目标指标"},
    )
    assert response.status_code == 200
    assert _status(db, row["external_id"]) == "returned"
    mine = browser_as("enterprise").get("/enterprise/problems")
    assert "请补充目标指标" in mine.text


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("enterprise", "/subcenter/review"),
        ("enterprise", "/stats"),
        ("enterprise", "/expert/inbox"),
        ("expert", "/stats"),
        ("expert", "/admin/users"),
        ("expert", "/enterprise/problems/new"),
        ("subcenter_admin", "/admin/regions"),
        ("subcenter_admin", "/admin/users"),
        ("subcenter_admin", "/admin/dashboard"),
        ("platform_admin", "/expert/inbox"),
    ],
)
def test_pages_outside_a_role_are_forbidden(browser_as, role, path):
    response = browser_as(role).get(path)
    assert response.status_code in (403, 404)
    assert 'id="error-message"' in response.text


def test_menu_shows_only_the_roles_pages(browser_as):
    page = browser_as("expert").get("/expert/profile").text
    assert 'href="/expert/inbox"' in page
    assert 'href="/stats"' not in page and 'href="/admin/users"' not in page


def test_language_switch_turns_the_pages_english_and_back(browser_as):
    client = browser_as("enterprise")
    assert "我的需求" in client.get("/enterprise/problems").text
    client.post("/lang", data={"lang": "en", "next": "/enterprise/problems"})
    page = client.get("/enterprise/problems").text
    assert "My problems" in page and "我的需求" not in page
    assert '<html lang="en">' in page
    client.post("/lang", data={"lang": "zh-CN", "next": "/"})
    assert "我的需求" in client.get("/enterprise/problems").text


def test_sign_in_redirect_stays_on_this_site(anonymous, world, build, login_form):
    form = login_form(anonymous, world.usernames["expert"], build.PASSWORD, next="//evil.example/")
    response = anonymous.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_sign_out_ends_the_session(browser_as, csrf_of):
    client = browser_as("expert")
    client.post("/logout", data={"csrf": csrf_of(client)})
    assert client.get("/expert/profile").url.path == "/login"


def test_static_assets_are_served_by_the_platform(anonymous):
    for path in ("/static/app.css", "/static/app.js"):
        response = anonymous.get(path)
        assert response.status_code == 200 and len(response.content) > 500


def test_service_reads_match_what_the_list_page_shows(browser_as, db, world):
    page = browser_as("enterprise").get("/enterprise/problems").text
    with db.session() as conn:
        own = problems.list(
            conn=conn,
            principal=world.users["enterprise"],
            organization=world.org_a,
            page_size=100,
        )
    for item in own.items:
        assert f'href="/problems/{item.external_id}"' in page


@pytest.mark.parametrize(
    ("query", "field", "label"),
    [
        ("level=perfect", "level", "匹配度"),
        ("page=0", "page", "页码"),
        ("region=" + "x" * 201, "region", "地区"),
    ],
)
def test_inbox_filters_refuse_bad_input_naming_the_field(browser_as, query, field, label):
    response = browser_as("expert").get(f"/expert/inbox?{query}")
    assert response.status_code == 422
    # Named by its label in the reader's language; the code only in a data attribute.
    assert f'data-field="{field}"' in response.text
    assert f"相关字段：{label}" in response.text and " / " not in response.text


def test_inbox_page_has_filters_and_an_honest_empty_state(browser_as):
    page = browser_as("expert").get("/expert/inbox?region=nowhere").text
    assert 'id="inbox-filters"' in page and 'id="f-level"' in page
    assert "暂无合适匹配" in page and 'class="card empty no-match"' in page
