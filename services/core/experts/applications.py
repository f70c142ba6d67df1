"""Experts who sign themselves up: an account at once, a profile once the sub-center approves.

Until its sub-center approves it, the profile an expert asked for waits in
expert_applications: it is no experts row, so no list, search, figure or match can show it.
The expert may sign in meanwhile. Who reviews is the permission table's expert.create (the
sub-center of the application's region, platform staff); the expert hears of the decision
through a notification (and e-mail, by its choice).
"""

from __future__ import annotations

from typing import Any, Literal

from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import ExpertSignup, UserRead
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput, InvalidTransition, NotFound
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertCreate
from greenplat.core.notifications import service as notifications
from greenplat.core.permissions import Principal, clauses, clauses_sql, require, require_any
from greenplat.core.reference import service as reference

Decision = Literal["approve", "reject"]
PROFILE = ("name", "organization", "title", "disciplines", "keywords", "bio", "region")


def signup(*, conn: Connection, data: ExpertSignup) -> UserRead:
    """Create the expert's account (with its e-mail) and its application, pending review."""
    region = reference.subcenter_region(conn=conn, region=data.region)
    profile, _ = reference.normalise_record(
        conn=conn, library="experts", data=data.model_dump(include=set(PROFILE))
    )
    user = accounts.create_user(
        conn=conn,
        username=data.username,
        password=data.password,
        role="expert",
        region=region,
        display_name=data.name,
    )
    conn.execute(
        "UPDATE users SET email = %s, language = %s WHERE id = %s",
        (data.email, data.language, user.id),
    )
    conn.execute(
        "INSERT INTO expert_applications (user_id, name, organization, title, disciplines,"
        " keywords, bio, region) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (user.id, *(profile[k] for k in PROFILE[:-1]), region),
    )
    audit.record(conn, actor=user.username, action="expert_signup", library="users",
                 record_id=user.id, region=region)  # fmt: skip
    return user


def get_own(*, conn: Connection, principal: Principal) -> dict[str, Any] | None:
    """The principal's own application (its status and the reason of a refusal), or None."""
    if principal.id is None:
        return None
    return conn.execute(
        "SELECT * FROM expert_applications WHERE user_id = %s", (principal.id,)
    ).fetchone()


def list_pending(*, conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """Applications waiting for the principal's review (its region's; all for platform staff)."""
    require_any(principal, "expert", "create")
    condition, params = clauses_sql(clauses(principal, "expert", "create"), "a")
    return conn.execute(
        "SELECT a.*, u.username, u.email FROM expert_applications a"
        f" JOIN users u ON u.id = a.user_id WHERE a.status = 'pending' AND {condition}"
        " ORDER BY a.created_at, a.id",
        params,
    ).fetchall()


def _pending_or_raise(conn: Connection, principal: Principal, application_id: int) -> dict:
    row = conn.execute(
        "SELECT a.*, u.username, u.email, u.id AS user_id FROM expert_applications a"
        " JOIN users u ON u.id = a.user_id WHERE a.id = %s FOR UPDATE OF a",
        (application_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"专家注册 {application_id} 不存在 / application not found")
    require(principal, "expert", "create", row)
    if row["status"] != "pending":
        raise InvalidTransition("该注册已审核 / this sign-up was already reviewed")
    return row


def _approve(conn: Connection, principal: Principal, row: dict[str, Any]) -> int:
    profile = ExpertCreate(**{k: row[k] for k in PROFILE})
    expert = experts.create(conn=conn, principal=principal, data=profile)
    conn.execute("UPDATE users SET expert_id = %s WHERE id = %s", (expert.id, row["user_id"]))
    return expert.id


def decide(
    *,
    conn: Connection,
    principal: Principal,
    application_id: int,
    decision: Decision,
    reason: str | None = None,
) -> None:
    """Approve (the profile is created and becomes public) or reject (a reason is required)."""
    row = _pending_or_raise(conn, principal, application_id)
    reason = (reason or "").strip() or None
    if decision == "reject" and reason is None:
        raise InvalidInput("退回须说明理由 / a rejection needs a reason", field="reason")
    if reason is not None and len(reason) > 1000:
        raise InvalidInput("理由最多 1000 字 / the reason is too long", field="reason")
    expert_id = _approve(conn, principal, row) if decision == "approve" else None
    status = "approved" if decision == "approve" else "rejected"
    conn.execute(
        "UPDATE expert_applications SET status = %s, reason = %s, reviewed_by = %s,"
        " reviewed_at = now(), expert_id = %s WHERE id = %s",
        (status, reason, principal.id, expert_id, application_id),
    )
    user = {"id": row["user_id"], "email": row["email"]}
    link = "/expert/profile" if expert_id else "/account"
    notifications.notify_account(conn, user=user, variant=status, link=link, reason=reason or "")
    audit.record(conn, actor=principal, action=f"expert_signup_{decision}", library="users",
                 record_id=row["user_id"], region=row["region"])  # fmt: skip
