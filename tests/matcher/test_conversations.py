"""Threads and contact details: only the two sides (and the region's staff), only after consent."""

from __future__ import annotations

import pytest


@pytest.fixture
def pair(api, world, match_db):
    """(client, auth, post_feedback, thread url) for the battery problem and expert."""
    client, auth = api
    # Earlier tests (pipeline, follow-up) may have disclosed this pair's contacts: start clean.
    _forget_contacts(match_db)
    for who in ("acme", "battery"):
        body = {"email": f"{who}@example.test", "phone": f"+86 {who}"}
        assert client.put("/v1/account/contact", json=body, headers=auth[who]).status_code == 200
    problem, expert = world.problems["battery"], world.experts["battery"]

    def feedback(who: str, action: str, **extra):
        body = {"problem_id": problem, "expert_id": expert, "action": action, **extra}
        return client.post("/v1/matches/feedback", json=body, headers=auth[who])

    yield client, auth, feedback, f"/v1/messages/{problem}/{expert}"
    _forget_contacts(match_db)


def _forget_contacts(match_db) -> None:
    with match_db.session() as conn:
        conn.execute("DELETE FROM contact_disclosures")
        conn.execute("UPDATE users SET email = NULL, phone = NULL")


def test_contact_details_appear_for_both_sides_only_after_interest(pair, match_db):
    client, auth, feedback, thread = pair
    assert feedback("acme", "invited").status_code == 201
    for who in ("acme", "battery", "subcenter"):
        assert client.get(thread, headers=auth[who]).json()["contacts"] == []
    assert feedback("battery", "interested").status_code == 201
    owner_sees = client.get(thread, headers=auth["acme"]).json()["contacts"]
    assert [c["email"] for c in owner_sees] == ["battery@example.test"]
    expert_sees = client.get(thread, headers=auth["battery"]).json()["contacts"]
    assert [(c["email"], c["phone"]) for c in expert_sees] == [("acme@example.test", "+86 acme")]
    with match_db.session() as conn:
        (row,) = conn.execute("SELECT * FROM contact_disclosures").fetchall()
    assert row["disclosed_at"] is not None and row["feedback_id"] is not None
    # Records never carry contact details.
    expert = client.get(f"/v1/experts/{row['expert_id']}", headers=auth["acme"]).text
    assert "battery@example.test" not in expert


def test_a_thread_is_readable_by_its_two_sides_and_the_regions_staff_only(pair):
    client, auth, feedback, thread = pair
    early = client.post(thread, json={"body": "hello"}, headers=auth["acme"])
    assert early.status_code == 409  # messages open after an invitation or an answer
    assert feedback("battery", "interested").status_code == 201
    posted = client.post(thread, json={"body": "Can you visit our plant?"}, headers=auth["acme"])
    assert posted.status_code == 201
    reply = client.post(thread, json={"body": "Yes, next week."}, headers=auth["battery"])
    assert reply.status_code == 201
    joined = client.post(thread, json={"body": "江苏分中心可以协助"}, headers=auth["subcenter"])
    assert joined.status_code == 201
    bodies = [m["body"] for m in client.get(thread, headers=auth["acme"]).json()["items"]]
    assert bodies == ["Can you visit our plant?", "Yes, next week.", "江苏分中心可以协助"]
    for outsider in ("blue", "water"):
        assert client.get(thread, headers=auth[outsider]).status_code == 404
        assert client.post(thread, json={"body": "hi"}, headers=auth[outsider]).status_code == 404
    notes = client.get("/v1/notifications", headers=auth["battery"]).json()["items"]
    message_notes = [n for n in notes if n["kind"] == "message"]
    assert len(message_notes) == 2  # from the enterprise and from the sub-center
    assert all("plant" not in n["text"] and "协助" not in n["text"] for n in message_notes)


def test_message_size_is_limited_and_named(pair):
    client, auth, feedback, thread = pair
    assert feedback("acme", "invited").status_code == 201
    long = client.post(thread, json={"body": "x" * 5001}, headers=auth["acme"])
    assert long.status_code == 422 and "too long" in long.json()["error"]["message"]
    assert long.json()["error"]["fields"][0]["field"] == "body"
    blank = client.post(thread, json={"body": "  "}, headers=auth["acme"])
    assert blank.status_code == 422
