"""The password policy over every path that sets a password: API, portal, CLI."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from typer.testing import CliRunner


def test_api_signup_refuses_a_common_password(client, world, build):
    body = {"username": f"p-{build.uid()}", "password": "password123", "organization": "某企业"}
    body["region"] = world.region_a
    response = client.post("/v1/auth/signup", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "password"


def test_admin_creation_and_password_change_refuse_weak_passwords(client, tokens, world, build):
    admin = tokens["platform_admin"]
    user = {"username": f"p-{build.uid()}", "password": "qwerty12345", "role": "expert"}
    created = client.post("/v1/users", json=user, headers=admin)
    assert created.status_code == 422
    assert created.json()["error"]["fields"] == [
        {"field": "password", "message": created.json()["error"]["message"]}
    ]
    target = world.users["enterprise2"].id
    changed = client.patch(f"/v1/users/{target}", json={"password": "1q2w3e4r5t"}, headers=admin)
    assert (
        changed.status_code == 422 and changed.json()["error"]["fields"][0]["field"] == "password"
    )


def test_portal_signup_names_the_weak_password(client, world, build):
    with TestClient(client.app) as browser:
        csrf = re.search(r'name="csrf" value="(\w+)"', browser.get("/signup").text).group(1)
        form = {
            "csrf": csrf,
            "organization": "某企业",
            "region": world.region_a,
            "username": f"p-{build.uid()}",
            "password": "iloveyou123",
            "password2": "iloveyou123",
        }
        page = browser.post("/signup", data=form)
    assert page.status_code == 422
    assert 'data-field="password">密码过于常见' in page.text


def test_cli_users_create_refuses_a_weak_password(db, build):
    from greenplat.cli import app as cli

    username = f"cli-{build.uid()}"
    args = [
        "users",
        "create",
        "--username",
        username,
        "--role",
        "expert",
        "--password",
        "abc1234567",
    ]
    result = CliRunner().invoke(cli, args, env={"GREENPLAT_DATABASE_URL": db.url})
    assert result.exit_code != 0
    assert "password is too common" in result.output
    with db.session() as conn:
        assert not conn.execute("SELECT 1 FROM users WHERE username = %s", (username,)).fetchone()
