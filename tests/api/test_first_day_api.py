"""The API side of the first day: reset by e-mail, password change, sessions, expert sign-up;
the same services as the portal."""

from __future__ import annotations

import re

from greenplat.core.accounts import service as accounts

LINK = re.compile(r"/password/reset/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "api-new-password-31"


def _account(db, build, *, email: str | None = None) -> str:
    username = f"api1-{build.uid()}"
    with db.session() as conn:
        user = accounts.create_user(
            conn=conn, username=username, password=build.PASSWORD, role="enterprise"
        )
        conn.execute("UPDATE users SET email = %s WHERE id = %s", (email, user.id))
    return username


def _bearer(client, username: str, password: str, agent: str = "pytest") -> dict[str, str]:
    response = client.post(
        "/v1/auth/token",
        json={"username": username, "password": password},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_reset_answers_alike_for_known_and_unknown_addresses(client, db, build):
    email = f"{build.uid()}@example.test"
    username = _account(db, build, email=email)
    known = client.post("/v1/auth/password-reset", json={"email": email})
    unknown = client.post("/v1/auth/password-reset", json={"email": f"n{email}"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    bad = client.post("/v1/auth/password-reset", json={"email": "nope"})
    assert bad.status_code == 422 and "email" in bad.text

    with db.session() as conn:
        body = conn.execute(
            "SELECT o.body FROM email_outbox o JOIN users u ON u.id = o.user_id"
            " WHERE u.username = %s",
            (username,),
        ).fetchone()["body"]
    token = LINK.search(body).group(1)
    session = _bearer(client, username, build.PASSWORD)
    confirm = {"token": token, "password": NEW_PASSWORD}
    assert client.post("/v1/auth/password-reset/confirm", json=confirm).status_code == 204
    assert client.get("/v1/auth/me", headers=session).status_code == 401
    used = client.post("/v1/auth/password-reset/confirm", json=confirm)
    assert used.status_code == 422 and used.json()["error"]["fields"][0]["field"] == "token"
    _bearer(client, username, NEW_PASSWORD)


def test_sessions_are_listed_and_revoked_through_the_api(client, db, build):
    username = _account(db, build)
    mine = _bearer(client, username, build.PASSWORD, agent="curl/8")
    other = _bearer(client, username, build.PASSWORD, agent="phone")
    listed = client.get("/v1/auth/sessions", headers=mine).json()
    assert {s["user_agent"]: s["current"] for s in listed} == {"curl/8": True, "phone": False}
    assert all("token" not in key for s in listed for key in s)
    phone = next(s["id"] for s in listed if not s["current"])
    assert client.delete(f"/v1/auth/sessions/{phone}", headers=mine).status_code == 204
    assert client.get("/v1/auth/me", headers=other).status_code == 401
    assert client.delete(f"/v1/auth/sessions/{phone}", headers=mine).status_code == 404


def test_changing_the_password_needs_the_current_one(client, db, build):
    username = _account(db, build)
    mine = _bearer(client, username, build.PASSWORD)
    other = _bearer(client, username, build.PASSWORD)
    wrong = client.post(
        "/v1/auth/password",
        json={"current_password": "wrong-wrong-1", "new_password": NEW_PASSWORD},
        headers=mine,
    )
    assert (
        wrong.status_code == 422
        and wrong.json()["error"]["fields"][0]["field"] == "current_password"
    )
    ok = client.post(
        "/v1/auth/password",
        json={"current_password": build.PASSWORD, "new_password": NEW_PASSWORD},
        headers=mine,
    )
    assert ok.status_code == 204
    assert client.get("/v1/auth/me", headers=mine).status_code == 200
    assert client.get("/v1/auth/me", headers=other).status_code == 401


def test_an_expert_signs_up_and_its_subcenter_reviews_it(client, tokens, world, build):
    username = f"apiexp-{build.uid()}"
    created = client.post(
        "/v1/auth/signup/expert",
        json={
            "username": username,
            "password": build.PASSWORD,
            "email": f"{username}@uni.example",
            "name": "钱工",
            "region": world.region_a,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["expert_id"] is None
    queue = client.get("/v1/auth/expert-signups", headers=tokens["subcenter_admin"]).json()
    [mine] = [a for a in queue if a["username"] == username]
    assert client.get("/v1/auth/expert-signups", headers=tokens["enterprise"]).status_code == 403
    elsewhere = client.post(
        f"/v1/auth/expert-signups/{mine['id']}",
        json={"decision": "approve"},
        headers=tokens["subcenter_b"],
    )
    assert elsewhere.status_code == 403
    done = client.post(
        f"/v1/auth/expert-signups/{mine['id']}",
        json={"decision": "approve"},
        headers=tokens["subcenter_admin"],
    )
    assert done.status_code == 204
    me = client.get("/v1/auth/me", headers=_bearer(client, username, build.PASSWORD)).json()
    assert me["expert_id"] is not None
