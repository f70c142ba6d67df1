"""Accounts: argon2 hashes, tokens stored as hashes with expiry, sign-up, admin changes."""

from __future__ import annotations

import hashlib

import pytest

from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import UserUpdate
from greenplat.core.errors import Conflict, Forbidden, InvalidInput, Unauthorized


def test_password_is_stored_as_argon2_hash(conn, build):
    name = f"u-{build.uid()}"
    accounts.create_user(conn=conn, username=name, password="long-enough-1", role="platform_admin")
    stored = conn.execute("SELECT password_hash FROM users WHERE username=%s", (name,)).fetchone()
    assert stored["password_hash"].startswith("$argon2")
    assert "long-enough-1" not in stored["password_hash"]


def test_token_round_trip_and_revocation(conn, world, build):
    name = world.usernames["expert"]
    token = accounts.authenticate(conn=conn, username=name, password=build.PASSWORD)
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = conn.execute(
        "SELECT expires_at - created_at AS ttl FROM api_tokens WHERE token_hash=%s", (digest,)
    ).fetchone()
    assert row["ttl"].total_seconds() == pytest.approx(accounts.DEFAULT_TTL_HOURS * 3600, abs=5)
    principal = accounts.principal_for_token(conn=conn, token=token)
    assert principal.role == "expert" and principal.expert_external_id == world.expert_a
    accounts.revoke_token(conn=conn, token=token)
    with pytest.raises(Unauthorized):
        accounts.principal_for_token(conn=conn, token=token)


def test_expired_token_is_refused(conn, world, build):
    token = accounts.authenticate(
        conn=conn, username=world.usernames["enterprise"], password=build.PASSWORD
    )
    conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    with pytest.raises(Unauthorized):
        accounts.principal_for_token(conn=conn, token=token)
    user_id = world.users["enterprise"].id
    accounts.authenticate(
        conn=conn, username=world.usernames["enterprise"], password=build.PASSWORD
    )
    left = conn.execute(
        "SELECT count(*) AS n FROM api_tokens WHERE user_id = %s AND expires_at <= now()",
        (user_id,),
    ).fetchone()
    assert left["n"] == 0  # signing in again cleared the expired token


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_wrong_password_and_unknown_user(conn, world, password):
    with pytest.raises(Unauthorized):
        accounts.authenticate(conn=conn, username=world.usernames["enterprise"], password=password)
    with pytest.raises(Unauthorized):
        accounts.authenticate(conn=conn, username="nobody-here", password="whatever-123")


def test_inactive_account_cannot_sign_in(conn, world, build):
    admin = world.users["platform_admin"]
    target = world.users["enterprise2"]
    accounts.update_user(
        conn=conn, principal=admin, user_id=target.id, data=UserUpdate(active=False)
    )
    with pytest.raises(Unauthorized):
        accounts.authenticate(
            conn=conn, username=world.usernames["enterprise2"], password=build.PASSWORD
        )


def test_password_rules_and_unique_usernames(conn, world, build):
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user(
            conn=conn, username=f"s-{build.uid()}", password="short", role="expert"
        )
    assert caught.value.field == "password"
    with pytest.raises(Conflict) as caught:
        accounts.create_user(
            conn=conn, username=world.usernames["expert"], password="long-enough-1", role="expert"
        )
    assert caught.value.field == "username"


def test_links_are_checked(conn, build):
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user(
            conn=conn, username=f"r-{build.uid()}", password="long-enough-1", role="subcenter_admin"
        )
    assert caught.value.field == "region"
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user(
            conn=conn,
            username=f"r-{build.uid()}",
            password="long-enough-1",
            role="enterprise",
            region="不存在的省",
        )
    assert caught.value.field == "region"


def test_signup_makes_an_enterprise_with_its_organization(conn, world, build):
    org = f"新注册企业{build.uid()}"
    user = accounts.signup_enterprise(
        conn=conn,
        username=f"s-{build.uid()}",
        password="long-enough-1",
        organization=org,
        region=world.region_a,
    )
    assert (user.role, user.organization, user.display_name) == ("enterprise", org, org)
    kind = conn.execute("SELECT kind FROM organizations WHERE name=%s", (org,)).fetchone()["kind"]
    assert kind == "enterprise"


def test_only_platform_admins_manage_users(conn, world):
    with pytest.raises(Forbidden):
        accounts.list_users(conn=conn, principal=world.users["subcenter_admin"])
    page = accounts.list_users(conn=conn, principal=world.users["platform_admin"], page_size=100)
    assert page.total >= 6
    assert all("password" not in u.model_dump() for u in page.items)
