"""The portal's first day: refused forms stay in place with the text kept, error pages keep the
viewer's header and menu, messages use labels and role names, limits show as counters, the
problem page says what its status means, and role changes are confirmed first."""

from __future__ import annotations

import ast
import html
import json
import re
import string
from importlib import resources
from pathlib import Path

import pytest

from greenplat.core.fields import COMMENT_MAX, LONG_TEXT_MAX
from greenplat.core.permissions import ROLES
from greenplat.core.problems.models import PROBLEM_STATUSES

# Codes that must never reach a Chinese reader as such: roles, statuses and field names.
CODES = re.compile(
    r"\b(" + "|".join([*ROLES, *PROBLEM_STATUSES, "comment", "since", "until", "code"]) + r")\b"
)
MESSAGES = re.compile(
    r'<(?:p|span)[^>]*(?:id="error-message"|id="error-field"|class="field-error"|class="err[^"]*")'
    r"[^>]*>(.*?)</(?:p|span)>",
    re.S,
)


def _messages(page: str) -> list[str]:
    """The texts of the messages a page shows (error page, inline errors)."""
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in MESSAGES.findall(page)]


def _no_codes(page: str) -> None:
    shown = [text for text in _messages(page) if text]
    assert shown, "the page shows no message"
    for text in shown:
        assert not CODES.search(text), f"a code reached the reader: {text!r}"
        assert " / " not in text, f"both languages shown: {text!r}"


def _signed_in_chrome(page: str, menu_link: str) -> None:
    """The header of a signed-in viewer: the sign-out button and the role's menu."""
    assert 'id="logout"' in page and 'href="/login"' not in page
    assert f'href="{menu_link}"' in page


def _english(client) -> None:
    client.cookies.set("gp_lang", "en")


@pytest.fixture
def submitted(db, world, build):
    with db.session() as conn:
        return build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            status="submitted",
            owner=world.users["enterprise"],
        )


def _status(db, problem_id: int) -> str:
    with db.session() as conn:
        row = conn.execute("SELECT status FROM problems WHERE id = %s", (problem_id,)).fetchone()
    return row["status"]


def test_returning_without_a_comment_stays_on_the_queue_with_the_message_at_the_problem(
    browser_as, csrf_of, db, submitted
):
    admin = browser_as("subcenter_admin")
    response = admin.post(
        f"/subcenter/review/{submitted['external_id']}",
        data={"csrf": csrf_of(admin), "decision": "return", "comment": "  "},
    )
    assert response.status_code == 422
    page = response.text
    _signed_in_chrome(page, "/subcenter/review")
    item = page[page.index(f'id="p{submitted["external_id"]}"') :]
    assert (
        f'<p class="field-error" id="c{submitted["external_id"]}-error" data-field="comment">'
        in item
    )
    assert "退回时须填写意见" in item.split("</section>")[0]
    assert _status(db, submitted["id"]) == "submitted"
    _no_codes(page)


def test_an_over_long_comment_is_refused_next_to_it_and_kept(browser_as, csrf_of, submitted):
    admin = browser_as("subcenter_admin")
    _english(admin)
    comment = "x" * (COMMENT_MAX + 5)
    response = admin.post(
        f"/subcenter/review/{submitted['external_id']}",
        data={"csrf": csrf_of(admin), "decision": "return", "comment": comment},
    )
    assert response.status_code == 422
    assert f">{comment}</textarea>" in response.text
    assert f"{COMMENT_MAX + 5} / {COMMENT_MAX}" in response.text
    assert f"Too long: at most {COMMENT_MAX} characters" in response.text


def test_a_description_over_the_limit_is_refused_inline_with_the_text_kept(
    browser_as, csrf_of, world
):
    owner = browser_as("enterprise")
    description = "储能" * (LONG_TEXT_MAX // 2 + 10)
    response = owner.post(
        "/enterprise/problems/new",
        data={
            "csrf": csrf_of(owner),
            "title": "热失控预警",
            "description": description,
            "region": world.region_a,
            "action": "draft",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert f">{description}</textarea>" in page and 'value="热失控预警"' in page
    error = page[page.index('id="f-description-error"') :].split("</p>")[0]
    assert f"最多 {LONG_TEXT_MAX} 个字符，现有 {len(description)} 个" in error
    # The counter and the limit come from the core's constant.
    assert f'maxlength="{LONG_TEXT_MAX}" data-counter="f-description-count"' in page
    assert f"{len(description)} / {LONG_TEXT_MAX}</span>" in page
    _signed_in_chrome(page, "/enterprise/problems")


def test_the_new_problem_form_shows_counters_from_the_core_limits(browser_as):
    page = browser_as("enterprise").get("/enterprise/problems/new").text
    assert 'id="f-title-count"' in page and "0 / 300</span>" in page
    assert f"0 / {LONG_TEXT_MAX}</span>" in page


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh-CN", "需求 PRB-NONE 不存在"), ("en", "Problem PRB-NONE does not exist")],
)
def test_a_missing_problem_shows_the_error_inside_the_signed_in_header(browser_as, lang, expected):
    client = browser_as("enterprise")
    client.cookies.set("gp_lang", lang)
    response = client.get("/problems/PRB-NONE")
    assert response.status_code == 404
    assert expected in response.text
    _signed_in_chrome(response.text, "/enterprise/problems")


def test_a_forbidden_page_names_the_role_in_words_inside_the_header(browser_as):
    client = browser_as("subcenter_admin")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "分中心管理员无权访问此页面" in response.text
    _signed_in_chrome(response.text, "/subcenter/review")
    _no_codes(response.text)
    _english(client)
    english = client.get("/admin/users").text
    assert "The role “Sub-center admin” may not open this page" in english


def test_a_reversed_stats_period_stays_on_the_dashboard_with_the_dates_kept(browser_as):
    client = browser_as("subcenter_admin")
    response = client.get("/stats", params={"since": "2026-05-01", "until": "2026-01-01"})
    assert response.status_code == 422
    page = response.text
    assert 'id="stats-period-error"' in page and "开始日期晚于结束日期" in page
    assert 'value="2026-05-01"' in page and 'value="2026-01-01"' in page
    _signed_in_chrome(page, "/stats")
    _no_codes(page)


def test_a_taken_region_code_is_named_by_its_label_on_the_regions_page(browser_as, csrf_of, world):
    admin = browser_as("platform_admin")
    response = admin.post(
        "/admin/regions",
        data={
            "csrf": csrf_of(admin),
            "code": f"A{world.tag}",
            "name": f"新省{world.tag}",
            "subcenter_name": "新分中心",
        },
    )
    assert response.status_code == 409
    page = response.text
    assert f"代码「A{world.tag}」已存在" in page and f'value="新省{world.tag}"' in page
    assert 'id="f-code-error" data-field="code">代码' in page
    _signed_in_chrome(page, "/admin/users")


def test_a_too_long_message_stays_in_the_box(browser_as, csrf_of, db, world, build):
    with db.session() as conn:
        row = build.problem(
            conn, region=world.region_a, organization=world.org_a, owner=world.users["enterprise"]
        )
        expert_id = world.users["expert"].expert_id
        conn.execute(
            "INSERT INTO match_feedback (problem_id, expert_id, action, actor_role)"
            " VALUES (%s, %s, 'invited', 'enterprise')",
            (row["id"], expert_id),
        )
    owner = browser_as("enterprise")
    body = "请" * 5001
    response = owner.post(
        f"/messages/{row['external_id']}/{world.expert_a}",
        data={"csrf": csrf_of(owner), "body": body},
    )
    assert response.status_code == 422
    assert f">{body}</textarea>" in response.text
    assert "最多 5000 个字符" in response.text


def test_a_role_change_asks_first_showing_old_and_new_role(browser_as, csrf_of, db, world, build):
    from greenplat.core.accounts import service as accounts

    with db.session() as conn:
        user = accounts.create_user(
            conn=conn, username=f"role-{build.uid()}", password=build.PASSWORD, role="enterprise"
        )
    admin = browser_as("platform_admin")
    form = {"csrf": csrf_of(admin), "role": "subcenter_admin", "region": world.region_a}
    form["active"] = "on"
    asked = admin.post(f"/admin/users/{user.id}", data=form)
    assert asked.status_code == 200
    confirm = asked.text[asked.text.index('id="confirm-role"') :].split("</li>")[0]
    assert "企业" in confirm and "分中心管理员" in confirm and "→" in confirm
    assert 'name="confirmed" value="1"' in asked.text
    with db.session() as conn:
        assert accounts.get_user(conn=conn, user_id=user.id).role == "enterprise"
    done = admin.post(f"/admin/users/{user.id}", data={**form, "confirmed": "1"})
    assert done.status_code == 200
    with db.session() as conn:
        assert accounts.get_user(conn=conn, user_id=user.id).role == "subcenter_admin"


def test_a_change_without_a_new_role_is_saved_at_once(browser_as, csrf_of, db, build):
    from greenplat.core.accounts import service as accounts

    with db.session() as conn:
        user = accounts.create_user(
            conn=conn, username=f"org-{build.uid()}", password=build.PASSWORD, role="enterprise"
        )
    admin = browser_as("platform_admin")
    data = {"csrf": csrf_of(admin), "role": "enterprise", "active": "on", "organization": ""}
    response = admin.post(f"/admin/users/{user.id}", data=data, follow_redirects=False)
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("approved", "note"),
    [(True, "曾通过审核并获得推荐，现已关闭"), (False, "已关闭：该需求不再征集方案。")],
)
def test_a_closed_problem_says_it_is_closed_not_that_approval_is_pending(
    browser_as, db, world, build, approved, note
):
    with db.session() as conn:
        row = build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            status="closed",
            owner=world.users["enterprise"],
        )
        stamp = "now()" if approved else "NULL"
        conn.execute(f"UPDATE problems SET approved_at = {stamp} WHERE id = %s", (row["id"],))
    page = browser_as("enterprise").get(f"/problems/{row['external_id']}").text
    assert 'id="status-note"' in page and note in page
    assert "审核通过后将显示推荐" not in page and 'id="recommendations"' not in page


@pytest.mark.parametrize("status", ["draft", "submitted", "returned", "approved", "matched"])
def test_every_status_has_its_own_note(browser_as, db, world, build, status):
    with db.session() as conn:
        row = build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            status=status,
            owner=world.users["enterprise"],
        )
    page = browser_as("enterprise").get(f"/problems/{row['external_id']}").text
    assert f'state-note state-{status}"' in page
    assert ('id="recommendations"' in page) == (status in ("approved", "matched"))


def test_the_catalogue_messages_are_words_in_both_languages():
    """Every error, field, role and state text exists in zh-CN and en with the same
    placeholders, and the Chinese never shows a code."""
    text = (resources.files("greenplat.api.web") / "catalogue.json").read_text(encoding="utf-8")
    catalogue = json.loads(text)
    prefixes = ("error.", "field.", "role.", "resource.", "problem.state.", "valid.")
    checked = {k: v for k, v in catalogue.items() if k.startswith(prefixes)}
    assert len(checked) > 80
    for key, entry in checked.items():
        assert entry.get("zh-CN") and entry.get("en"), key
        names = [{n for _, n, _, _ in string.Formatter().parse(entry[lang]) if n} for lang in entry]
        assert names[0] == names[1], key
        bare = re.sub(r"\{[a-z_]+\}", "", entry["zh-CN"])
        assert not re.search(r"[a-z]+_[a-z]+|\b[a-z]{4,}\b", bare), (key, entry["zh-CN"])


def test_an_unknown_address_is_a_page_in_the_header_for_browsers_and_json_for_clients(
    browser_as,
):
    client = browser_as("expert")
    page = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "没有这个页面" in page.text
    _signed_in_chrome(page.text, "/expert/inbox")
    api = client.get("/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    plain = client.get("/no/such/page")
    assert plain.json()["error"]["code"] == "not_found"


def _keyed_errors():
    """(file, line, key, params given) of every error raised with a catalogue key."""
    root = Path(__file__).parents[2] / "services"
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            words = {k.arg: k.value for k in node.keywords if k.arg}
            key = words.get("key")
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            params = words.get("params")
            names = None  # unknown (built elsewhere)
            if params is None:
                names = set()
            elif isinstance(params, ast.Dict):
                names = {k.value for k in params.keys if isinstance(k, ast.Constant)}
            found.append((f"{path.name}:{node.lineno}", key.value, names))
    return found


def test_every_error_key_is_in_the_catalogue_with_the_params_it_names():
    text = (resources.files("greenplat.api.web") / "catalogue.json").read_text(encoding="utf-8")
    catalogue = json.loads(text)
    keyed = _keyed_errors()
    assert len(keyed) >= 20
    for where, key, names in keyed:
        assert key in catalogue, f"{where}: {key} is not in the catalogue"
        wanted = {n for _, n, _, _ in string.Formatter().parse(catalogue[key]["zh-CN"]) if n}
        if names is not None:
            assert wanted <= names, f"{where}: {key} needs {wanted - names}"


def test_a_refused_transition_names_the_statuses_in_words(browser_as, csrf_of, db, submitted):
    owner = browser_as("enterprise")
    response = owner.post(
        f"/problems/{submitted['external_id']}/edit",
        data={
            "csrf": csrf_of(owner),
            "title": "改个标题",
            "description": "说明",
            "action": "draft",
        },
    )
    assert response.status_code == 409
    assert "「待审核」的需求不能修改，只有「草稿、已退回」的可以" in response.text
    assert 'value="改个标题"' in response.text
    _no_codes(response.text)
    _english(owner)
    english = owner.post(
        f"/problems/{submitted['external_id']}/edit",
        data={"csrf": csrf_of(owner), "title": "t", "description": "d", "action": "draft"},
    ).text
    assert "only Draft, Returned ones can" in english
