"""The portal's first day over HTTP: the front door and visitor search, password reset by a
mailed link, the account page with its sessions, expert sign-up and its review."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from greenplat.core.accounts import service as accounts
from greenplat.core.stats import public

LINK = re.compile(r"/password/reset/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "fresh-password-58"


def test_a_visitor_sees_the_front_door_with_live_figures(anonymous, db, build, world):
    with db.session() as conn:
        build.problem(conn, region=world.region_a, title=f"公开难题{world.tag}")
        build.problem(conn, region=world.region_a, title=f"机密难题{world.tag}", confidential=True)
        figures = public.figures(conn=conn)
    page = anonymous.get("/")
    assert page.status_code == 200
    for way in ('href="/signup"', 'href="/signup/expert"', 'href="/login"', 'action="/search"'):
        assert way in page.text
    assert f'<div class="card figure" id="figure-experts"><b>{figures["experts"]}</b>' in page.text
    assert f"公开难题{world.tag}" in page.text
    assert f"机密难题{world.tag}" not in page.text


def test_a_signed_in_account_is_sent_to_its_work(browser_as):
    response = browser_as("enterprise").get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/enterprise/problems"


def test_a_visitor_searches_public_records_only(anonymous, db, build, world):
    tag = world.tag
    with db.session() as conn:
        build.problem(conn, region=world.region_b, title=f"开放{tag}")
        build.problem(conn, region=world.region_b, title=f"保密{tag}", confidential=True)
        build.problem(conn, region=world.region_b, title=f"草稿{tag}", status="draft")
    page = anonymous.get("/search", params={"library": "problems", "region": world.region_b})
    assert page.status_code == 200
    assert 'id="visitor-hint"' in page.text
    assert f"开放{tag}" in page.text
    assert f"保密{tag}" not in page.text and f"草稿{tag}" not in page.text
    # Sorting and filters reveal nothing more: an industry filter only narrows public ones.
    narrowed = anonymous.get(
        "/search", params={"library": "problems", "region": world.region_b, "industry": "无"}
    )
    assert f"保密{tag}" not in narrowed.text and f"开放{tag}" not in narrowed.text


def test_a_page_that_needs_an_account_says_why(anonymous):
    page = anonymous.get("/enterprise/problems")
    assert 'id="login-why"' in page.text
    assert 'href="/password/forgot"' in page.text


def test_a_password_is_reset_through_a_mailed_link_that_works_once(
    anonymous, db, build, world, csrf_of, login_form
):
    with db.session() as conn:
        username = f"reset-{build.uid()}"
        user = accounts.create_user(
            conn=conn, username=username, password=build.PASSWORD, role="enterprise"
        )
        email = f"{username}@example.test"
        conn.execute("UPDATE users SET email = %s WHERE id = %s", (email, user.id))
    known = anonymous.post(
        "/password/forgot", data={"csrf": csrf_of(anonymous, "/login"), "email": email}
    )
    unknown = anonymous.post(
        "/password/forgot",
        data={"csrf": csrf_of(anonymous, "/login"), "email": f"x-{email}"},
    )
    assert known.status_code == unknown.status_code == 200
    # The same page whether or not the address has an account (only the address differs).
    assert known.text.replace(email, "@") == unknown.text.replace(f"x-{email}", "@")
    with db.session() as conn:
        body = conn.execute(
            "SELECT body FROM email_outbox WHERE user_id = %s", (user.id,)
        ).fetchone()["body"]
    token = LINK.search(body).group(1)

    form = anonymous.get(f"/password/reset/{token}")
    assert form.status_code == 200 and 'id="reset-submit"' in form.text
    csrf = csrf_of(anonymous, f"/password/reset/{token}")
    mismatch = anonymous.post(
        f"/password/reset/{token}",
        data={"csrf": csrf, "password": NEW_PASSWORD, "password2": "something-else-1"},
    )
    assert mismatch.status_code == 422 and 'id="f-password2-error"' in mismatch.text
    done = anonymous.post(
        f"/password/reset/{token}",
        data={"csrf": csrf, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.url.path == "/login"
    assert anonymous.post("/login", data=login_form(anonymous, username, NEW_PASSWORD)).url.path
    again = anonymous.get(f"/password/reset/{token}")
    assert again.status_code == 410 and 'id="reset-link-dead"' in again.text


def test_the_account_page_changes_the_password_and_ends_other_sessions(
    app, db, build, csrf_of, login_form
):
    with db.session() as conn:
        username = f"acct-{build.uid()}"
        accounts.create_user(
            conn=conn, username=username, password=build.PASSWORD, role="enterprise"
        )
    here, there = TestClient(app), TestClient(app)
    for client in (here, there):
        client.post("/login", data=login_form(client, username, build.PASSWORD))
    page = here.get("/account")
    assert page.status_code == 200
    assert page.text.count('class="session') == 2
    assert "企业" in page.text and 'href="/account/settings"' in page.text

    wrong = here.post(
        "/account/password",
        data={
            "csrf": csrf_of(here, "/account"),
            "current_password": "not-my-password",
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    changed = here.post(
        "/account/password",
        data={
            "csrf": csrf_of(here, "/account"),
            "current_password": build.PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed.url.path == "/account" and "密码已修改" in changed.text
    assert changed.text.count('class="session') == 1
    # The other browser was signed out.
    assert there.get("/account").url.path == "/login"
    here.close()
    there.close()


def test_a_session_is_revoked_from_the_account_page(app, db, build, csrf_of, login_form):
    with db.session() as conn:
        username = f"sess-{build.uid()}"
        accounts.create_user(
            conn=conn, username=username, password=build.PASSWORD, role="enterprise"
        )
    here, there = TestClient(app), TestClient(app)
    for client in (here, there):
        client.post("/login", data=login_form(client, username, build.PASSWORD))
    page = here.get("/account").text
    other = re.search(r'action="/account/sessions/(\d+)/revoke"', page).group(1)
    done = here.post(f"/account/sessions/{other}/revoke", data={"csrf": csrf_of(here, "/account")})
    assert done.url.path == "/account"
    assert there.get("/account").url.path == "/login"
    assert here.get("/account").status_code == 200
    here.close()
    there.close()


def test_an_expert_signs_up_waits_and_is_approved_by_its_subcenter(
    anonymous, browser_as, db, build, world, csrf_of
):
    username = f"newexp-{build.uid()}"
    form = {
        "csrf": csrf_of(anonymous, "/signup/expert"),
        "name": "赵研究员",
        "region": world.region_a,
        "organization": "甲研究院",
        "keywords": "氢能；储氢",
        "email": f"{username}@institute.example",
        "username": username,
        "password": build.PASSWORD,
        "password2": build.PASSWORD,
    }
    bad = anonymous.post("/signup/expert", data={**form, "email": "not-an-address"})
    assert bad.status_code == 422 and 'id="f-email-error"' in bad.text
    signed = anonymous.post("/signup/expert", data=form)
    assert signed.url.path == "/account"
    assert 'id="expert-signup-status"' in signed.text
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/account"

    other = browser_as("subcenter_b").get("/subcenter/experts").text
    assert username not in other
    reviewer = browser_as("subcenter_admin")
    queue = reviewer.get("/subcenter/experts").text
    application = re.search(r'id="application-(\d+)">\s*<h2>赵研究员', queue).group(1)
    refused = reviewer.post(
        f"/subcenter/experts/{application}",
        data={"csrf": csrf_of(reviewer, "/subcenter/experts"), "decision": "reject"},
    )
    assert refused.status_code == 422
    approved = reviewer.post(
        f"/subcenter/experts/{application}",
        data={"csrf": csrf_of(reviewer, "/subcenter/experts"), "decision": "approve"},
    )
    assert approved.url.path == "/subcenter/experts"
    profile = anonymous.get("/expert/profile")
    assert profile.status_code == 200 and "赵研究员" in profile.text
    assert anonymous.get("/notifications").text.count("你的专家注册已通过审核") == 1


def test_a_pending_experts_pages_answer_without_a_profile(anonymous, world, build, csrf_of):
    username = f"pend-{build.uid()}"
    anonymous.post(
        "/signup/expert",
        data={
            "csrf": csrf_of(anonymous, "/signup/expert"),
            "name": "孙博士",
            "region": world.region_a,
            "email": f"{username}@uni.example",
            "username": username,
            "password": build.PASSWORD,
            "password2": build.PASSWORD,
        },
    )
    for path in ("/expert/inbox", "/expert/invitations", "/expert/profile", "/expert/achievements"):
        response = anonymous.get(path)
        assert response.status_code < 500, (path, response.status_code)
