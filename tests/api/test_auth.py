"""Sign-in (JSON and OAuth2 form), sign-up, /me, sign-out, and the 401 shape."""

from __future__ import annotations


def test_sign_in_with_json_and_with_the_docs_form(client, world, build):
    username = world.usernames["enterprise"]
    by_json = client.post("/v1/auth/token", json={"username": username, "password": build.PASSWORD})
    by_form = client.post("/v1/auth/token", data={"username": username, "password": build.PASSWORD})
    for response in (by_json, by_form):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer" and len(body["access_token"]) > 30
    me = client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {by_form.json()['access_token']}"}
    )
    assert me.json()["username"] == username and me.json()["organization"] == world.org_a
    assert "password_hash" not in me.json()


def test_wrong_password_is_401_in_the_error_shape(client, world):
    response = client.post(
        "/v1/auth/token", json={"username": world.usernames["expert"], "password": "wrong-one"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_body_errors_name_the_field(client):
    missing = client.post("/v1/auth/token", json={"username": "x"})
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == [
        {"field": "password", "message": "必填 / required"}
    ]
    broken = client.post(
        "/v1/auth/token", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "malformed_json"


def test_requests_without_a_valid_token_are_401(client):
    assert client.get("/v1/problems").status_code == 401
    bad = client.get("/v1/problems", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and "error" in bad.json()


def test_logout_ends_the_token(client, world, build):
    token = client.post(
        "/v1/auth/token",
        json={"username": world.usernames["subcenter_admin"], "password": build.PASSWORD},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/v1/auth/me", headers=headers).status_code == 401


def test_enterprise_signup_then_sign_in(client, world, build):
    username = f"signup-{build.uid()}"
    created = client.post(
        "/v1/auth/signup",
        json={
            "username": username,
            "password": "long-enough-1",
            "organization": f"新企业{build.uid()}",
            "region": world.region_a,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "enterprise"
    token = client.post("/v1/auth/token", json={"username": username, "password": "long-enough-1"})
    assert token.status_code == 200


def test_signup_refuses_short_passwords_taken_names_and_roles(client, world):
    short = client.post(
        "/v1/auth/signup", json={"username": "shorty", "password": "short", "organization": "x"}
    )
    assert short.status_code == 422
    assert short.json()["error"]["fields"][0]["field"] == "password"
    taken = client.post(
        "/v1/auth/signup",
        json={
            "username": world.usernames["expert"],
            "password": "long-enough-1",
            "organization": "x",
            "region": world.region_a,
        },
    )
    assert taken.status_code == 409 and taken.json()["error"]["fields"][0]["field"] == "username"
    sneaky = client.post(
        "/v1/auth/signup",
        json={
            "username": "sneaky-admin",
            "password": "long-enough-1",
            "organization": "x",
            "role": "platform_admin",
        },
    )
    assert sneaky.status_code == 422
    assert sneaky.json()["error"]["fields"][0]["field"] == "role"


def test_signup_without_a_region_is_refused(client, world, build):
    """Its problems would reach no sub-center: the region is required and must have one."""
    body = {"username": f"noregion-{build.uid()}", "password": "long-enough-1", "organization": "x"}
    for region in (None, "", "火星省", "西藏自治区"):
        refused = client.post("/v1/auth/signup", json={**body, "region": region})
        assert refused.status_code == 422, region
        field = refused.json()["error"]["fields"][0]
        assert field["field"] == "region" and "/" in field["message"]
    credentials = {"username": body["username"], "password": body["password"]}
    assert client.post("/v1/auth/token", json=credentials).status_code == 401
