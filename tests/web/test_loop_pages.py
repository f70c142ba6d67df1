"""The loop in the portal: badge and centre, settings, contacts after consent, threads, mail log."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def problem(db, world, build):
    with db.session() as conn:
        return build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            owner=world.users["enterprise"],
            title="光伏组件清洗机器人",
        )


def _post(client, csrf_of, url, **data):
    return client.post(url, data={"csrf": csrf_of(client), **data}, follow_redirects=False)


def _badge(page: str) -> str | None:
    found = re.search(r'id="unread-badge">(\d+)<', page)
    return found.group(1) if found else None


def _settings(client, csrf_of, email, language="zh-CN", **mail):
    return _post(
        client,
        csrf_of,
        "/account/settings",
        email=email,
        phone="+86 10 1234",
        language=language,
        **mail,
    )


def test_interest_lights_the_badge_and_shows_contacts_and_the_thread(
    browser_as, csrf_of, world, problem
):
    owner, expert, outsider = (
        browser_as("enterprise"),
        browser_as("expert"),
        browser_as("enterprise2"),
    )
    assert _settings(owner, csrf_of, f"owner-{world.tag}@example.test").status_code == 303
    assert _settings(expert, csrf_of, f"expert-{world.tag}@example.test").status_code == 303
    pid, eid = problem["external_id"], world.expert_a  # external ids: what users see
    before = _badge(owner.get("/enterprise/problems").text)
    page = expert.get(f"/problems/{pid}").text
    assert "owner-" not in page and 'class="muted contacts-hidden"' in page
    answer = _post(
        expert, csrf_of, f"/expert/respond/{pid}", action="interested", proposal_approach="无水清洗"
    )
    assert answer.status_code == 303
    assert _badge(owner.get("/enterprise/problems").text) == str(int(before or 0) + 1)
    centre = owner.get("/notifications").text
    assert "有意向" in centre and problem["title"] in centre
    note_id = re.search(r'action="/notifications/(\d+)/open"', centre).group(1)
    opened = _post(owner, csrf_of, f"/notifications/{note_id}/open")
    assert opened.status_code == 303 and opened.headers["location"] == f"/problems/{pid}#pair-{eid}"
    shown = owner.get(f"/problems/{pid}").text
    assert f"expert-{world.tag}@example.test" in shown and "无水清洗" in shown
    assert f"owner-{world.tag}@example.test" in expert.get(f"/problems/{pid}").text
    thread = f"/messages/{pid}/{eid}"
    assert _post(owner, csrf_of, thread, body="请问何时可以来现场？").status_code == 303
    assert _post(expert, csrf_of, thread, body="下周二可以。").status_code == 303
    text = owner.get(thread).text
    assert "请问何时可以来现场？" in text and "下周二可以。" in text
    assert outsider.get(thread).status_code == 404
    assert "下周二" not in outsider.get(thread).text


def test_settings_name_a_bad_field_and_keep_choices(browser_as, csrf_of):
    client = browser_as("subcenter_admin")
    bad = _settings(client, csrf_of, "not-an-address")
    assert bad.status_code == 422 and 'id="f-email-error"' in bad.text
    ok = _settings(client, csrf_of, "center@example.test", language="en", mail_queue="off")
    assert ok.status_code == 303
    page = client.get("/account/settings").text
    assert re.search(r'<option value="off" selected>', page)
    assert 'value="center@example.test"' in page


def test_admins_see_failed_e_mail_and_can_retry_it(browser_as, csrf_of, db):
    with db.session() as conn:
        row = conn.execute(
            "INSERT INTO email_outbox (to_address, subject, body, status, attempts, last_error)"
            " VALUES ('x@example.test', '失败的邮件', 'b', 'failed', 8, 'connection refused')"
            " RETURNING id"
        ).fetchone()
    admin = browser_as("platform_admin")
    page = admin.get("/admin/mail?status=failed").text
    assert "失败的邮件" in page and "connection refused" in page
    assert _post(admin, csrf_of, f"/admin/mail/{row['id']}/retry").status_code == 303
    with db.session() as conn:
        status = conn.execute(
            "SELECT status FROM email_outbox WHERE id = %s", (row["id"],)
        ).fetchone()["status"]
        conn.execute("DELETE FROM email_outbox WHERE id = %s", (row["id"],))
    assert status == "pending"
    assert browser_as("subcenter_admin").get("/admin/mail").status_code == 403


def test_the_queue_shows_waiting_time_and_follow_up_lists_unanswered_problems(
    browser_as, csrf_of, db, world, build
):
    with db.session() as conn:
        queued = build.problem(conn, region=world.region_a, status="submitted", title="待审的需求")
        stale = build.problem(conn, region=world.region_a, title="无人回应的需求")
        conn.execute(
            "UPDATE problems SET submitted_at = now() - interval '3 days' WHERE id = %s",
            (queued["id"],),
        )
        conn.execute(
            "UPDATE problems SET approved_at = now() - interval '30 days' WHERE id = %s",
            (stale["id"],),
        )
    center = browser_as("subcenter_admin")
    queue = center.get("/subcenter/review").text
    assert re.search(rf'id="p{queued["external_id"]}"[\s\S]*?已等待 3 天', queue)
    page = center.get("/subcenter/followup").text
    assert f'id="p{stale["external_id"]}"' in page and "30 天" in page
    assert browser_as("subcenter_b").get("/subcenter/followup").text.count("无人回应的需求") == 0
    assert browser_as("enterprise").get("/subcenter/followup").status_code == 403
