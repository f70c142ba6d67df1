"""Contact details: one's own always; the other side of a match only after consent.

An expert's and an enterprise's e-mail and phone are never part of a record's read. They are
shown to the other side of a (problem, expert) pair once the expert said 有意向 (or accepted an
invitation), which records the moment in contact_disclosures; staff of the problem's region
see them too. Nothing else reads these columns.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from greenplat.core.accounts.service import to_principal
from greenplat.core.contacts.models import ContactRead, ContactUpdate
from greenplat.core.db import Connection
from greenplat.core.errors import NotFound
from greenplat.core.permissions import Principal, allows, owns

_USERS = (
    "SELECT u.*, e.external_id AS expert_external_id, o.name AS organization FROM users u"
    " LEFT JOIN experts e ON e.id = u.expert_id"
    " LEFT JOIN organizations o ON o.id = u.organization_id WHERE u.active AND "
)


def users_where(conn: Connection, where: str, params: tuple) -> builtins.list[dict]:
    """Active accounts matching a condition on alias u."""
    return conn.execute(_USERS + where, params).fetchall()


def _contact(row: dict[str, Any]) -> ContactRead:
    return ContactRead(
        name=row.get("display_name") or row["username"],
        organization=row.get("organization"),
        email=row.get("email"),
        phone=row.get("phone"),
        language=row.get("language") or "zh-CN",
    )


def get_own(*, conn: Connection, principal: Principal) -> ContactRead:
    """The principal's own contact details."""
    rows = users_where(conn, "u.id = %s", (principal.id,))
    row = rows[0] if rows else None
    if row is None:
        raise NotFound("账号不存在 / account not found")
    return _contact(row)


def update_own(*, conn: Connection, principal: Principal, data: ContactUpdate) -> ContactRead:
    """Change the principal's own contact details."""
    conn.execute(
        "UPDATE users SET email = %s, phone = %s, language = %s WHERE id = %s",
        (data.email or None, data.phone or None, data.language, principal.id),
    )
    return get_own(conn=conn, principal=principal)


def _disclosed_at(conn: Connection, problem_id: int, expert_id: int) -> datetime | None:
    row = conn.execute(
        "SELECT disclosed_at FROM contact_disclosures WHERE problem_id = %s AND expert_id = %s",
        (problem_id, expert_id),
    ).fetchone()
    return row["disclosed_at"] if row else None


def owners_of(conn: Connection, problem: dict[str, Any]) -> builtins.list[dict]:
    """Accounts of the enterprise that owns the problem."""
    rows = users_where(
        conn,
        "(u.id = %s OR (u.organization_id IS NOT NULL AND u.organization_id = %s))",
        (problem.get("owner_id"), problem.get("organization_id")),
    )
    return [r for r in rows if owns(to_principal(r), "problem", problem)]


def accounts_of_expert(conn: Connection, expert_id: int) -> builtins.list[dict]:
    """Accounts that speak for an expert."""
    return users_where(conn, "u.expert_id = %s", (expert_id,))


def for_pair(
    *, conn: Connection, principal: Principal, problem: dict[str, Any], expert_id: int
) -> builtins.list[ContactRead]:
    """The other side's contact details for this pair, or [] before consent or to outsiders."""
    if _disclosed_at(conn, problem["id"], expert_id) is None:
        return []
    if allows(principal, "problem", "match", problem):
        return [_contact(r) for r in accounts_of_expert(conn, expert_id)]
    if owns(principal, "expert", {"id": expert_id}):
        return [_contact(r) for r in owners_of(conn, problem)]
    return []
