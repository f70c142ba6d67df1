"""Organizations: records accounts and problems point at by id, membership by approval.

Signing up with the name of an existing organization does not make the account a member: it
files a request that a member of the organization or its sub-center approves. A new
organization starts unverified; its sub-center verifies it before its problems can be approved.
"""

from __future__ import annotations

import builtins
from typing import Any

from greenplat.core.db import Connection
from greenplat.core.errors import Conflict, InvalidInput, NotFound
from greenplat.core.organizations.models import (
    MembershipDecision,
    MembershipRequestRead,
    OrganizationCreate,
    OrganizationRead,
)
from greenplat.core.permissions import (
    Principal,
    allows,
    clauses,
    clauses_sql,
    may,
    organization_read_filter,
    require,
    require_any,
)

_REQUEST_SQL = (
    "SELECT r.*, o.name AS organization, u.username, u.display_name"
    " FROM organization_requests r JOIN organizations o ON o.id = r.organization_id"
    " JOIN users u ON u.id = r.user_id"
)


def get_by_name(*, conn: Connection, name: str) -> dict[str, Any] | None:
    """The organization row with this name, or None."""
    return conn.execute("SELECT * FROM organizations WHERE name = %s", (name,)).fetchone()


def _row_or_raise(conn: Connection, organization_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM organizations WHERE id = %s", (organization_id,)).fetchone()
    if row is None:
        raise NotFound(f"组织 {organization_id} 不存在 / organization {organization_id} not found")
    return row


def _visible_or_raise(
    conn: Connection, principal: Principal, organization_id: int
) -> dict[str, Any]:
    row = _row_or_raise(conn, organization_id)
    if not allows(principal, "organization", "read", row):
        # An organization the reader may not see answers like one that does not exist.
        raise NotFound(f"组织 {organization_id} 不存在 / organization {organization_id} not found")
    return row


def ensure(
    *,
    conn: Connection,
    name: str,
    kind: str = "other",
    region: str | None = None,
    verified: bool,
) -> int:
    """The id of the organization with this name, creating it when new.

    Staff, imports and the demo name organizations they vouch for (verified); sign-up
    creates unverified ones.
    """
    created = create_if_new(conn=conn, name=name, kind=kind, region=region, verified=verified)
    if created is not None:
        return created
    existing = get_by_name(conn=conn, name=name)
    if existing is None:  # the name was taken by a row that has gone since
        raise Conflict(
            f"组织「{name}」刚被改动，请重试 / organization {name!r} changed meanwhile, try again",
            field="organization",
        )
    return existing["id"]


def create_if_new(
    *, conn: Connection, name: str, kind: str, region: str | None, verified: bool
) -> int | None:
    """The id of a new organization with this name, or None when the name is taken.

    The unique name decides atomically: of two sign-ups racing for one new name, one creates
    the organization and the other is told it exists.
    """
    row = conn.execute(
        "INSERT INTO organizations (name, kind, region, verified, verified_at)"
        " VALUES (%s, %s, %s, %s, CASE WHEN %s THEN now() END)"
        " ON CONFLICT (name) DO NOTHING RETURNING id",
        (name, kind, region, verified, verified),
    ).fetchone()
    return row["id"] if row else None


def list(
    *,
    conn: Connection,
    principal: Principal,
    kind: str | None = None,
    region: str | None = None,
    verified: bool | None = None,
) -> builtins.list[OrganizationRead]:
    """The organizations the principal may see, by name."""
    require_any(principal, "organization", "read")
    condition, params = organization_read_filter(principal)
    rows = conn.execute(
        f"SELECT * FROM organizations o WHERE {condition}"
        " AND (%s::text IS NULL OR o.kind = %s) AND (%s::text IS NULL OR o.region = %s)"
        " AND (%s::boolean IS NULL OR o.verified = %s) ORDER BY o.name",
        [*params, kind, kind, region, region, verified, verified],
    )
    return [OrganizationRead(**r) for r in rows]


def create(*, conn: Connection, principal: Principal, data: OrganizationCreate) -> OrganizationRead:
    """Register an organization (platform admins): verified, since staff vouch for it."""
    require_any(principal, "region", "manage")
    if (
        data.region
        and not conn.execute("SELECT 1 FROM regions WHERE name = %s", (data.region,)).fetchone()
    ):
        raise InvalidInput(f"地区 {data.region} 不存在 / unknown region", field="region")
    if get_by_name(conn=conn, name=data.name) is not None:
        raise Conflict(f"{data.name} 已存在 / organization exists", field="name")
    org_id = ensure(conn=conn, name=data.name, kind=data.kind, region=data.region, verified=True)
    return OrganizationRead(**_row_or_raise(conn, org_id))


def verify(*, conn: Connection, principal: Principal, organization_id: int) -> OrganizationRead:
    """Mark an organization verified (its sub-center, or platform admins)."""
    row = _visible_or_raise(conn, principal, organization_id)
    require(principal, "organization", "verify", row)
    conn.execute(
        "UPDATE organizations SET verified = true, verified_by = %s, verified_at = now()"
        " WHERE id = %s AND NOT verified",
        (principal.id, organization_id),
    )
    return OrganizationRead(**_row_or_raise(conn, organization_id))


def is_verified(*, conn: Connection, organization_id: int) -> bool:
    """Whether the organization has been verified."""
    return bool(_row_or_raise(conn, organization_id)["verified"])


def request_membership(*, conn: Connection, user_id: int, organization_id: int) -> None:
    """File the account's request to join the organization."""
    conn.execute(
        "INSERT INTO organization_requests (organization_id, user_id) VALUES (%s, %s)",
        (organization_id, user_id),
    )


def list_requests(
    *, conn: Connection, principal: Principal, organization_id: int
) -> builtins.list[MembershipRequestRead]:
    """The pending requests to join an organization (its members, its sub-center)."""
    row = _visible_or_raise(conn, principal, organization_id)
    require(principal, "organization", "approve", row)
    rows = conn.execute(
        f"{_REQUEST_SQL} WHERE r.organization_id = %s AND r.status = 'pending' ORDER BY r.id",
        (organization_id,),
    )
    return [MembershipRequestRead(**r) for r in rows]


def pending_requests(
    *, conn: Connection, principal: Principal
) -> builtins.list[MembershipRequestRead]:
    """Every pending request the principal may decide, oldest first."""
    if not may(principal, "organization", "approve"):
        return []
    condition, params = clauses_sql(clauses(principal, "organization", "approve"), "o")
    rows = conn.execute(
        f"{_REQUEST_SQL} WHERE r.status = 'pending' AND {condition} ORDER BY r.id", params
    )
    return [MembershipRequestRead(**r) for r in rows]


def decide_request(
    *,
    conn: Connection,
    principal: Principal,
    organization_id: int,
    request_id: int,
    data: MembershipDecision,
) -> MembershipRequestRead:
    """Approve (the account joins) or reject a pending request."""
    org = _visible_or_raise(conn, principal, organization_id)
    require(principal, "organization", "approve", org)
    found = conn.execute(
        f"{_REQUEST_SQL} WHERE r.id = %s AND r.organization_id = %s FOR UPDATE OF r",
        (request_id, organization_id),
    ).fetchone()
    if found is None:
        raise NotFound(f"申请 {request_id} 不存在 / request {request_id} not found")
    if found["status"] != "pending":
        raise Conflict("该申请已处理 / this request was already decided")
    status = "approved" if data.decision == "approve" else "rejected"
    conn.execute(
        "UPDATE organization_requests SET status = %s, decided_by = %s, decided_at = now()"
        " WHERE id = %s",
        (status, principal.id, request_id),
    )
    if status == "approved":
        conn.execute(
            "UPDATE users SET organization_id = %s WHERE id = %s",
            (organization_id, found["user_id"]),
        )
    return MembershipRequestRead(**{**found, "status": status})
