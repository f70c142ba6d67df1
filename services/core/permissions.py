"""Who may do what: one table, read top to bottom, with a test for every row.

A cell names the *scope* in which a role may act on a resource:
  ALL        every record
  OWN        records the principal owns (its organization's problems, its own expert
             profile, achievements listing it among expert_ids)
  REGION     records of the sub-center admin's region
  PUBLISHED  problems that passed review (approved, matched, closed); confidential ones are
             shown redacted to anyone outside OWN / REGION / ALL
  NONE       nothing
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Flag, auto
from typing import Any

from greenplat.core.errors import Forbidden


class Scope(Flag):
    NONE = 0
    OWN = auto()
    REGION = auto()
    PUBLISHED = auto()
    ALL = auto()


ROLES = ("enterprise", "expert", "subcenter_admin", "platform_admin")
PUBLISHED_STATUSES = ("approved", "matched", "closed")

N, OWN, REGION, PUB, ALL = Scope.NONE, Scope.OWN, Scope.REGION, Scope.PUBLISHED, Scope.ALL

# (resource, action): (enterprise, expert, subcenter_admin, platform_admin)
PERMISSIONS: dict[tuple[str, str], tuple[Scope, Scope, Scope, Scope]] = {
    ("problem", "read"):        (OWN | PUB, PUB,   REGION,          ALL),
    ("problem", "create"):      (OWN,       N,     REGION,          ALL),
    ("problem", "update"):      (OWN,       N,     REGION,          ALL),
    ("problem", "delete"):      (OWN,       N,     N,               ALL),
    ("problem", "submit"):      (OWN,       N,     REGION,          ALL),
    ("problem", "review"):      (N,         N,     REGION,          ALL),
    ("problem", "close"):       (OWN,       N,     REGION,          ALL),
    ("problem", "match"):       (OWN,       N,     REGION,          ALL),
    ("achievement", "read"):    (ALL,       ALL,   ALL,             ALL),
    ("achievement", "create"):  (N,         OWN,   REGION,          ALL),
    ("achievement", "update"):  (N,         OWN,   REGION,          ALL),
    ("achievement", "delete"):  (N,         OWN,   REGION,          ALL),
    ("expert", "read"):         (ALL,       ALL,   ALL,             ALL),
    ("expert", "create"):       (N,         N,     REGION,          ALL),
    ("expert", "update"):       (N,         OWN,   REGION,          ALL),
    ("expert", "delete"):       (N,         N,     REGION,          ALL),
    ("expert", "inbox"):        (N,         OWN,   REGION,          ALL),
    ("feedback", "create"):     (OWN,       OWN,   REGION,          ALL),
    ("stats", "read"):          (N,         N,     REGION,          ALL),
    ("import", "run"):          (N,         N,     REGION,          ALL),
    ("export", "run"):          (N,         N,     REGION,          ALL),
    ("region", "manage"):       (N,         N,     N,               ALL),
    ("user", "manage"):         (N,         N,     N,               ALL),
}  # fmt: skip


@dataclass(frozen=True)
class Principal:
    """The signed-in account a request acts for."""

    id: int | None
    username: str
    role: str
    region: str | None = None
    organization: str | None = None
    expert_id: int | None = None
    expert_external_id: str | None = None


SYSTEM = Principal(id=None, username="system", role="platform_admin")


def scope_of(principal: Principal, resource: str, action: str) -> Scope:
    """The scope the table grants this principal for (resource, action)."""
    row = PERMISSIONS.get((resource, action))
    if row is None:
        raise KeyError(f"no permission row for {resource}.{action}")
    return row[ROLES.index(principal.role)]


def owns(principal: Principal, resource: str, record: dict[str, Any]) -> bool:
    """Whether the record belongs to the principal in the sense of the OWN scope."""
    if resource == "problem":
        if record.get("owner_id") is not None and record.get("owner_id") == principal.id:
            return True
        org = principal.organization
        return principal.role == "enterprise" and bool(org) and record.get("organization") == org
    if resource == "expert":
        return principal.expert_id is not None and record.get("id") == principal.expert_id
    if resource == "achievement":
        ext = principal.expert_external_id
        return ext is not None and ext in (record.get("expert_ids") or [])
    return resource == "feedback"


def in_region(principal: Principal, record: dict[str, Any]) -> bool:
    """Whether the record lies in the principal's region."""
    return principal.region is not None and record.get("region") == principal.region


def is_published(record: dict[str, Any]) -> bool:
    """Whether a problem has passed review."""
    return record.get("status") in PUBLISHED_STATUSES


def allows(principal: Principal, resource: str, action: str, record: dict[str, Any]) -> bool:
    """Whether the principal may act on this record."""
    scope = scope_of(principal, resource, action)
    return bool(
        (ALL in scope)
        or (OWN in scope and owns(principal, resource, record))
        or (REGION in scope and in_region(principal, record))
        or (PUB in scope and resource == "problem" and is_published(record))
    )


def require(principal: Principal, resource: str, action: str, record: dict[str, Any]) -> None:
    """Raise Forbidden unless allows()."""
    if not allows(principal, resource, action, record):
        raise Forbidden(f"你无权对该{_NAMES.get(resource, resource)}执行此操作 / not allowed")


def require_any(principal: Principal, resource: str, action: str) -> Scope:
    """Raise Forbidden when the role has no scope at all for the action; return the scope."""
    scope = scope_of(principal, resource, action)
    if scope == N:
        raise Forbidden(
            f"你的角色无权执行此操作 / role {principal.role} may not {action} {resource}"
        )
    return scope


def sees_full_problem(principal: Principal, record: dict[str, Any]) -> bool:
    """Whether the principal may read a confidential problem's full text."""
    if not record.get("confidential"):
        return True
    scope = scope_of(principal, "problem", "read")
    return bool(
        (ALL in scope)
        or (OWN in scope and owns(principal, "problem", record))
        or (REGION in scope and in_region(principal, record))
    )


def problem_read_filter(principal: Principal) -> tuple[str, list[Any]]:
    """SQL condition (on table alias p) restricting problems to those the principal may read."""
    scope = scope_of(principal, "problem", "read")
    if ALL in scope:
        return "TRUE", []
    parts: list[str] = []
    params: list[Any] = []
    if OWN in scope:
        parts.append("(p.owner_id = %s OR (p.organization IS NOT NULL AND p.organization = %s))")
        params += [principal.id, principal.organization or "\x00"]
    if REGION in scope:
        parts.append("p.region = %s")
        params.append(principal.region or "\x00")
    if PUB in scope:
        parts.append("p.status = ANY(%s)")
        params.append(list(PUBLISHED_STATUSES))
    return "(" + " OR ".join(parts or ["FALSE"]) + ")", params


_NAMES = {"problem": "需求", "achievement": "成果", "expert": "专家", "stats": "统计"}
