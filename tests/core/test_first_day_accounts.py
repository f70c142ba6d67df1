"""The portal's first day in the services: the visitor's view, password reset links, sessions,
and experts who sign themselves up."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from greenplat.core.accounts import reset, sessions, throttle
from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import ExpertSignup
from greenplat.core.accounts.throttle import Limits
from greenplat.core.errors import Forbidden, InvalidInput, NotFound, Throttled
from greenplat.core.experts import applications
from greenplat.core.permissions import VISITOR, allows
from greenplat.core.problems import service as problems
from greenplat.core.settings import Settings
from greenplat.core.stats import public

LINK = re.compile(r"/password/reset/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "brand-new-secret-42"


@pytest.fixture
def reset_settings() -> Settings:
    return Settings(env="test", public_url="https://greenplat.example")


def _user(conn, build, *, email: str | None = None):
    username = f"first-{build.uid()}"
    user = accounts.create_user(
        conn=conn, username=username, password=build.PASSWORD, role="enterprise"
    )
    conn.execute("UPDATE users SET email = %s WHERE id = %s", (email, user.id))
    return user


def _mails(conn, user_id: int) -> list[dict]:
    return conn.execute(
        "SELECT * FROM email_outbox WHERE user_id = %s ORDER BY id", (user_id,)
    ).fetchall()


# --- the visitor -----------------------------------------------------------------------------


def test_a_visitor_reads_only_published_problems_that_are_not_confidential(conn, build, world):
    region = world.region_a
    shown = build.problem(conn, region=region, status="approved")
    secret = build.problem(conn, region=region, status="approved", confidential=True)
    draft = build.problem(conn, region=region, status="draft")
    waiting = build.problem(conn, region=region, status="submitted")

    assert allows(VISITOR, "problem", "read", shown)
    for hidden in (secret, draft, waiting):
        assert not allows(VISITOR, "problem", "read", hidden)
        assert problems.get(conn=conn, principal=VISITOR, problem_id=hidden["id"]) is None
    listed = {p.id for p in problems.list(conn=conn, principal=VISITOR, region=region).items}
    assert listed == {shown["id"]}
    # An account still sees the confidential one, redacted: the visitor rule is its own.
    expert = world.users["expert"]
    assert allows(expert, "problem", "read", secret)


def test_public_figures_count_only_what_a_visitor_may_see(conn, build, world):
    before = public.figures(conn=conn)
    build.problem(conn, region=world.region_a, status="matched")
    build.problem(conn, region=world.region_a, status="approved")
    build.problem(conn, region=world.region_a, status="closed", confidential=True)
    build.problem(conn, region=world.region_a, status="submitted")
    build.achievement(conn, expert_ids=[world.expert_a])
    build.expert(conn, region=world.region_a)

    after = public.figures(conn=conn)
    assert after["problems"] - before["problems"] == 2
    assert after["solved"] - before["solved"] == 1
    assert after["achievements"] - before["achievements"] == 1
    assert after["experts"] - before["experts"] == 1
    assert after["regions"] >= 2


def test_the_newest_public_records_leave_confidential_problems_out(conn, build, world):
    secret = build.problem(conn, region=world.region_a, title="机密配方", confidential=True)
    shown = build.problem(conn, region=world.region_a, title="公开难题")
    latest = public.latest(conn=conn, size=50)
    ids = {p.id for p in latest["problems"]}
    assert shown["id"] in ids and secret["id"] not in ids


# --- password reset --------------------------------------------------------------------------


def test_a_reset_link_is_mailed_and_only_its_hash_is_stored(conn, build, reset_settings):
    user = _user(conn, build, email=f"{build.uid()}@example.test")
    reset.request_reset(conn=conn, settings=reset_settings, email=user_email(conn, user.id).upper())

    [mail] = _mails(conn, user.id)
    token = LINK.search(mail["body"]).group(1)
    assert mail["body"].count("https://greenplat.example/password/reset/") == 1
    assert mail["ephemeral"]
    [stored] = conn.execute(
        "SELECT * FROM password_resets WHERE user_id = %s", (user.id,)
    ).fetchall()
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored)
    assert stored["expires_at"] - stored["created_at"] == timedelta(minutes=60)


def test_a_reset_link_works_once_and_ends_every_session(conn, build, reset_settings):
    user = _user(conn, build, email=f"{build.uid()}@example.test")
    accounts.authenticate(conn=conn, username=user.username, password=build.PASSWORD)
    reset.request_reset(conn=conn, settings=reset_settings, email=user_email(conn, user.id))
    token = LINK.search(_mails(conn, user.id)[0]["body"]).group(1)

    assert reset.confirm_reset(conn=conn, token=token, password=NEW_PASSWORD) == user.username
    assert sessions_of(conn, user.id) == 0
    accounts.authenticate(conn=conn, username=user.username, password=NEW_PASSWORD)
    with pytest.raises(InvalidInput) as used:
        reset.confirm_reset(conn=conn, token=token, password="another-secret-77")
    assert used.value.field == "token"
    assert not reset.link_works(conn=conn, token=token)
    actions = {
        r["action"]
        for r in conn.execute(
            "SELECT action FROM audit_log WHERE library = 'users' AND record_id = %s", (user.id,)
        )
    }
    assert {"password_reset_requested", "password_reset"} <= actions


def test_an_expired_link_is_refused_and_a_weak_password_keeps_the_link(conn, build, reset_settings):
    user = _user(conn, build, email=f"{build.uid()}@example.test")
    reset.request_reset(conn=conn, settings=reset_settings, email=user_email(conn, user.id))
    token = LINK.search(_mails(conn, user.id)[0]["body"]).group(1)

    with pytest.raises(InvalidInput) as weak:
        reset.confirm_reset(conn=conn, token=token, password="password123")
    assert weak.value.field == "password"
    assert reset.link_works(conn=conn, token=token)

    conn.execute(
        "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = %s",
        (user.id,),
    )
    with pytest.raises(InvalidInput) as expired:
        reset.confirm_reset(conn=conn, token=token, password=NEW_PASSWORD)
    assert expired.value.field == "token"


def test_an_unknown_address_gets_the_same_answer_and_no_mail(conn, build, reset_settings):
    before = conn.execute("SELECT count(*) AS n FROM email_outbox").fetchone()["n"]
    assert (
        reset.request_reset(conn=conn, settings=reset_settings, email="nobody@example.test") is None
    )
    assert conn.execute("SELECT count(*) AS n FROM email_outbox").fetchone()["n"] == before


def test_reset_requests_are_throttled_per_address_asked_for(conn, build):
    limits = Limits(5, 30, 900, 10, 3600, resets_per_email=2, resets_per_address=100)
    email = f"{build.uid()}@example.test"
    for _ in range(2):
        throttle.requesting_reset(conn, limits=limits, email=email, address="10.9.8.7")
    with pytest.raises(Throttled) as refused:
        throttle.requesting_reset(conn, limits=limits, email=email.upper(), address="10.9.8.6")
    assert refused.value.retry_after > 0
    # Another address asked for is not held back by it, an unknown one counts the same.
    throttle.requesting_reset(conn, limits=limits, email=f"x{email}", address="10.9.8.7")


# --- sessions and password changes -----------------------------------------------------------


def test_sessions_are_listed_and_revoked_by_their_owner_only(conn, build, world):
    user = _user(conn, build)
    me = accounts.get_principal_by_username(conn=conn, username=user.username)
    first = accounts.authenticate(
        conn=conn, username=user.username, password=build.PASSWORD, user_agent="Firefox"
    )
    accounts.authenticate(conn=conn, username=user.username, password=build.PASSWORD)
    accounts.authenticate(conn=conn, username=user.username, password=build.PASSWORD)

    listed = sessions.list_sessions(conn=conn, principal=me, current_token=first)
    assert len(listed) == 3
    [current] = [s for s in listed if s.current]
    assert current.user_agent == "Firefox"
    other = next(s for s in listed if not s.current)
    with pytest.raises(NotFound):
        sessions.revoke_session(conn=conn, principal=world.users["enterprise"], session_id=other.id)
    sessions.revoke_session(conn=conn, principal=me, session_id=other.id)
    assert sessions_of(conn, user.id) == 2
    assert sessions.revoke_other_sessions(conn=conn, principal=me, current_token=first) == 1
    assert [
        s.current for s in sessions.list_sessions(conn=conn, principal=me, current_token=first)
    ] == [True]
    accounts.principal_for_token(conn=conn, token=first)


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(conn, build):
    user = _user(conn, build)
    me = accounts.get_principal_by_username(conn=conn, username=user.username)
    mine = accounts.authenticate(conn=conn, username=user.username, password=build.PASSWORD)
    accounts.authenticate(conn=conn, username=user.username, password=build.PASSWORD)

    with pytest.raises(sessions.WrongPassword):
        sessions.change_password(
            conn=conn,
            principal=me,
            current_password="not-it-at-all",
            new_password=NEW_PASSWORD,
            current_token=mine,
        )
    with pytest.raises(InvalidInput) as weak:
        sessions.change_password(
            conn=conn,
            principal=me,
            current_password=build.PASSWORD,
            new_password="1234567890",
            current_token=mine,
        )
    assert weak.value.field == "new_password"
    sessions.change_password(
        conn=conn,
        principal=me,
        current_password=build.PASSWORD,
        new_password=NEW_PASSWORD,
        current_token=mine,
    )
    assert sessions_of(conn, user.id) == 1
    accounts.principal_for_token(conn=conn, token=mine)
    accounts.authenticate(conn=conn, username=user.username, password=NEW_PASSWORD)


# --- expert sign-up --------------------------------------------------------------------------


def _signup(conn, build, region: str):
    return applications.signup(
        conn=conn,
        data=ExpertSignup(
            username=f"exp-{build.uid()}",
            password=build.PASSWORD,
            email=f"{build.uid()}@uni.example",
            name="林教授",
            region=region,
            organization="甲大学",
            keywords="储能；热管理",
        ),
    )


def test_a_signed_up_expert_is_pending_and_not_public(conn, build, world):
    before = public.figures(conn=conn)["experts"]
    user = _signup(conn, build, world.region_a)
    assert user.role == "expert" and user.expert_id is None
    assert public.figures(conn=conn)["experts"] == before
    me = accounts.get_principal_by_username(conn=conn, username=user.username)
    assert applications.get_own(conn=conn, principal=me)["status"] == "pending"
    queue_a = applications.list_pending(conn=conn, principal=world.users["subcenter_admin"])
    queue_b = applications.list_pending(conn=conn, principal=world.users["subcenter_b"])
    assert user.username in {a["username"] for a in queue_a}
    assert user.username not in {a["username"] for a in queue_b}
    with pytest.raises(Forbidden):
        applications.list_pending(conn=conn, principal=world.users["enterprise"])


def test_the_regions_subcenter_approves_and_the_expert_is_told(conn, build, world):
    user = _signup(conn, build, world.region_a)
    me = accounts.get_principal_by_username(conn=conn, username=user.username)
    application = applications.get_own(conn=conn, principal=me)
    with pytest.raises(Forbidden):
        applications.decide(
            conn=conn,
            principal=world.users["subcenter_b"],
            application_id=application["id"],
            decision="approve",
        )

    applications.decide(
        conn=conn,
        principal=world.users["subcenter_admin"],
        application_id=application["id"],
        decision="approve",
    )
    account = accounts.get_user(conn=conn, user_id=user.id)
    expert = conn.execute("SELECT * FROM experts WHERE id = %s", (account.expert_id,)).fetchone()
    assert expert["name"] == "林教授" and expert["region"] == world.region_a
    assert expert["keywords"] == ["储能", "热管理"]
    [note] = conn.execute("SELECT * FROM notifications WHERE user_id = %s", (user.id,)).fetchall()
    assert note["kind"] == "account" and note["params"]["variant"] == "approved"
    assert note["mail"] == "immediate"


def test_a_rejection_needs_a_reason_that_the_expert_reads(conn, build, world):
    user = _signup(conn, build, world.region_a)
    me = accounts.get_principal_by_username(conn=conn, username=user.username)
    application_id = applications.get_own(conn=conn, principal=me)["id"]
    admin = world.users["subcenter_admin"]
    with pytest.raises(InvalidInput) as no_reason:
        applications.decide(
            conn=conn,
            principal=admin,
            application_id=application_id,
            decision="reject",
            reason="  ",
        )
    assert no_reason.value.field == "reason"
    applications.decide(
        conn=conn,
        principal=admin,
        application_id=application_id,
        decision="reject",
        reason="请补充工作单位证明",
    )
    own = applications.get_own(conn=conn, principal=me)
    assert own["status"] == "rejected" and own["reason"] == "请补充工作单位证明"
    assert accounts.get_user(conn=conn, user_id=user.id).expert_id is None


def test_an_expert_sign_up_needs_a_region_with_a_subcenter(conn, build):
    with pytest.raises(InvalidInput) as refused:
        _signup(conn, build, "火星")
    assert refused.value.field == "region"


def user_email(conn, user_id: int) -> str:
    return conn.execute("SELECT email FROM users WHERE id = %s", (user_id,)).fetchone()["email"]


def sessions_of(conn, user_id: int) -> int:
    return conn.execute(
        "SELECT count(*) AS n FROM api_tokens WHERE user_id = %s", (user_id,)
    ).fetchone()["n"]
