"""Notifications of match moves, in-app and by e-mail through a real SMTP server on loopback."""

from __future__ import annotations

import threading

import pytest

from greenplat.core.notifications import mail
from greenplat.core.notifications import service as notifications

FEEDBACK = "/v1/matches/feedback"


@pytest.fixture
def loop(api, world, match_db, match_settings, smtp_server):
    """(client, auth, post, deliver, inbox) with e-mail addresses on acme and battery."""
    client, auth = api
    inbox, port = smtp_server
    settings = match_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none"}
    )
    for who, language in (("acme", "zh-CN"), ("battery", "en")):
        body = {"email": f"{who}@example.test", "phone": f"+86-{who}", "language": language}
        assert client.put("/v1/account/contact", json=body, headers=auth[who]).status_code == 200

    def post(who: str, action: str, **extra):
        body = {
            "problem_id": world.problems["battery"],
            "expert_id": world.experts["battery"],
            "action": action,
            **extra,
        }
        return client.post(FEEDBACK, json=body, headers=auth[who])

    yield client, auth, post, lambda s=settings: mail.deliver(match_db, s), inbox
    with match_db.session() as conn:
        for table in ("notifications", "email_outbox", "notification_preferences"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM contact_disclosures")
        conn.execute("UPDATE users SET email = NULL, phone = NULL, language = 'zh-CN'")


def _unread(client, headers) -> list[dict]:
    return client.get("/v1/notifications?unread=true", headers=headers).json()["items"]


def test_invitation_and_interest_notify_the_other_side_in_app_and_by_mail(loop, world):
    client, auth, post, deliver, inbox = loop
    assert post("acme", "invited", note="Please look").status_code == 201
    (invitation,) = _unread(client, auth["battery"])
    assert invitation["kind"] == "invitation"
    assert invitation["text"] == "You are invited to answer: Lithium-ion battery packs overheat"
    assert invitation["link"] == "/expert/invitations#pP-battery"  # by external id
    assert post("battery", "interested", proposal_approach="cooling plates").status_code == 201
    (answer,) = _unread(client, auth["acme"])
    assert answer["text"] == "Expert battery 对「Lithium-ion battery packs overheat」有意向"
    assert deliver() == (2, 0)
    (to_expert,) = inbox.to("battery@example.test")
    assert to_expert["Subject"].startswith("You are invited")
    (to_owner,) = inbox.to("acme@example.test")
    assert "有意向" in to_owner["Subject"]
    assert "/problems/P-battery#pair-E-battery" in to_owner.get_content()
    assert "cooling plates" not in to_owner.get_content()  # proposals stay in the portal
    assert deliver() == (0, 0)  # nothing is sent twice
    read = client.post(f"/v1/notifications/{answer['id']}/read", headers=auth["acme"])
    assert read.status_code == 204 and _unread(client, auth["acme"]) == []
    other = client.post(f"/v1/notifications/{invitation['id']}/read", headers=auth["acme"])
    assert other.status_code == 404  # not acme's notification


def test_preferences_choose_in_app_only_or_a_daily_digest(loop, match_db):
    client, auth, post, deliver, inbox = loop
    choice = {"email": {"invitation": "off", "answer": "digest"}}
    for who in ("battery", "acme"):
        response = client.put("/v1/notifications/preferences", json=choice, headers=auth[who])
        assert response.status_code == 200 and response.json()["email"]["answer"] == "digest"
    bad = client.put(
        "/v1/notifications/preferences", json={"email": {"answer": "hourly"}}, headers=auth["acme"]
    )
    assert bad.status_code == 422
    assert post("acme", "invited").status_code == 201
    assert post("battery", "interested").status_code == 201
    assert deliver() == (0, 0)  # in-app only, and the digest waits a day
    with match_db.session() as conn:
        conn.execute("UPDATE notifications SET created_at = now() - interval '25 hours'")
    assert deliver() == (1, 0)
    (digest,) = inbox.messages
    assert digest["To"] == "acme@example.test" and "每日汇总" in digest["Subject"]


def test_no_title_for_recipients_who_may_not_read_the_problem(loop, world, match_db):
    client, auth, _, deliver, inbox = loop
    with match_db.session() as conn:
        draft = conn.execute(
            "SELECT * FROM problems WHERE id = %s", (world.problems["draft"],)
        ).fetchone()
        expert = notifications.accounts_of_expert(conn, world.experts["battery"])
        notifications.notify(conn, recipients=expert, kind="deal", problem=draft, link="/x")
    (note,) = _unread(client, auth["battery"])
    assert draft["title"] not in note["text"] and f"#{draft['external_id']}" in note["text"]
    deliver()
    (message,) = inbox.messages
    assert draft["title"] not in message["Subject"] + message.get_content()


def test_a_failed_send_is_retried_and_visible_then_sent_once(loop, match_db, free_tcp_port):
    client, auth, post, deliver, inbox = loop
    assert post("acme", "invited").status_code == 201
    settings = loop_settings(match_db, free_tcp_port)
    assert mail.deliver(match_db, settings) == (0, 1)
    with match_db.session() as conn:
        row = conn.execute("SELECT * FROM email_outbox").fetchone()
        assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"]
        assert deliver() == (0, 0)  # waiting out its backoff
        conn.execute("UPDATE email_outbox SET next_attempt_at = now()")
    assert deliver() == (1, 0)
    assert deliver() == (0, 0) and len(inbox.messages) == 1
    assert inbox.messages[0]["Message-ID"] == f"<greenplat-mail-{row['id']}@greenplat.local>"


def loop_settings(match_db, port):
    from greenplat.core.settings import Settings

    return Settings(
        env="test",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        mail_max_attempts=2,
        database_url=match_db.url,
    )


def test_parallel_senders_send_each_e_mail_once(loop, match_db, match_settings, smtp_server):
    client, auth, post, deliver, inbox = loop
    with match_db.session() as conn:
        for i in range(40):
            conn.execute(
                "INSERT INTO email_outbox (to_address, subject, body) VALUES (%s, %s, 'b')",
                (f"r{i}@example.test", f"s{i}"),
            )
    settings = loop_settings(match_db, smtp_server[1])
    threads = [threading.Thread(target=mail.send_due, args=(match_db, settings)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(m["Subject"] for m in inbox.messages) == sorted(f"s{i}" for i in range(40))


@pytest.fixture
def draft(api, world, match_db):
    """The world's draft problem, put back to draft afterwards."""
    yield world.problems["draft"]
    with match_db.session() as conn:
        conn.execute(
            "UPDATE problems SET status = 'draft' WHERE id = %s", (world.problems["draft"],)
        )


def test_review_queue_result_and_top_experts_are_notified(loop, draft):
    client, auth, _, deliver, inbox = loop
    assert client.post(f"/v1/problems/{draft}/submit", headers=auth["acme"]).status_code == 200
    (queued,) = _unread(client, auth["subcenter"])
    assert queued["kind"] == "queue" and queued["link"] == "/subcenter/review#pP-draft"
    review = {"decision": "return", "comment": "请补充电池型号"}
    assert (
        client.post(
            f"/v1/problems/{draft}/review", json=review, headers=auth["subcenter"]
        ).status_code
        == 200
    )
    (returned,) = _unread(client, auth["acme"])
    assert returned["text"] == "你的需求「Battery recycling plan」被退回：请补充电池型号"
    assert client.post(f"/v1/problems/{draft}/submit", headers=auth["acme"]).status_code == 200
    approve = {"decision": "approve", "comment": "ok"}
    assert (
        client.post(
            f"/v1/problems/{draft}/review", json=approve, headers=auth["subcenter"]
        ).status_code
        == 200
    )
    texts = [n["text"] for n in _unread(client, auth["acme"])]
    assert "你的需求「Battery recycling plan」已通过审核" in texts
    suggested = [n for n in _unread(client, auth["battery"]) if n["kind"] == "recommendation"]
    assert [n["link"] for n in suggested] == ["/expert/inbox#pP-draft"]
    deliver()
    subjects = [m["Subject"] for m in inbox.to("acme@example.test")]
    assert "你的需求「Battery recycling plan」已通过审核" in subjects
