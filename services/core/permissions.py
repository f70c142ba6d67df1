"""Who may do what: one table, read top to bottom, with a test for every row.

A cell names the *scope* in which a role may act on a resource:
  ALL        every record
  OWN        records the principal owns (problems it created or its organization's by
             organization id, its own expert profile, achievements listing it among
             expert_ids, its own organization)
  REGION     records of the sub-center admin's region
  PUBLISHED  problems that passed review (approved, matched, closed); confidential ones are
             shown redacted to anyone outside OWN / REGION / ALL
  PUBLIC     what a visitor who has not signed in may see: problems that passed review and
             are not confidential (a confidential one is left out, not redacted)
  NONE       nothing

Visitors have a column of their own (VISITOR_PERMISSIONS): they are no account role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Flag, auto
from typing import Any, Literal

from greenplat.core.errors import Forbidden


class Scope(Flag):
    NONE = 0
    OWN = auto()
    REGION = auto()
    PUBLISHED = auto()
    ALL = auto()
    PUBLIC = auto()


ROLES = ("enterprise", "expert", "subcenter_admin", "platform_admin")
PUBLISHED_STATUSES = ("approved", "matched", "closed")

N, OWN, REGION, PUB, ALL = Scope.NONE, Scope.OWN, Scope.REGION, Scope.PUBLISHED, Scope.ALL
PUBLIC = Scope.PUBLIC

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
    ("achievement", "withdraw"):(N,         OWN,   REGION,          ALL),
    ("expert", "read"):         (ALL,       ALL,   ALL,             ALL),
    ("expert", "create"):       (N,         N,     REGION,          ALL),
    ("expert", "update"):       (N,         OWN,   REGION,          ALL),
    ("expert", "delete"):       (N,         N,     REGION,          ALL),
    ("expert", "inbox"):        (N,         OWN,   REGION,          ALL),
    ("feedback", "create"):     (OWN,       OWN,   REGION,          ALL),
    ("organization", "read"):   (OWN,       OWN,   REGION,          ALL),
    ("organization", "approve"):(OWN,       N,     REGION,          ALL),
    ("organization", "verify"): (N,         N,     REGION,          ALL),
    ("stats", "read"):          (N,         N,     REGION,          ALL),
    ("import", "run"):          (N,         N,     REGION,          ALL),
    ("export", "run"):          (N,         N,     REGION,          ALL),
    ("region", "manage"):       (N,         N,     N,               ALL),
    ("user", "manage"):         (N,         N,     N,               ALL),
    ("reference", "manage"):    (N,         N,     N,               ALL),
    ("audit", "read"):          (N,         N,     REGION,          ALL),
}  # fmt: skip

VISITOR_ROLE = "visitor"
# What a visitor may do: read public records, nothing else. Expert profiles are all public: an
# expert who signs up has no profile until the sub-center of its region approves it.
VISITOR_PERMISSIONS: dict[tuple[str, str], Scope] = {
    ("problem", "read"): PUBLIC,
    ("achievement", "read"): ALL,
    ("expert", "read"): ALL,
}


@dataclass(frozen=True)
class Principal:
    """The signed-in account a request acts for.

    organization_id is the organization the account is an approved member of; organization
    is that organization's name, for display and for records that name it.
    """

    id: int | None
    username: str
    role: str
    region: str | None = None
    organization_id: int | None = None
    organization: str | None = None
    expert_id: int | None = None
    expert_external_id: str | None = None


SYSTEM = Principal(id=None, username="system", role="platform_admin")
# Who reads the public pages without signing in (the front door, search).
VISITOR = Principal(id=None, username="visitor", role=VISITOR_ROLE)


Op = Literal["eq", "contains"]


@dataclass(frozen=True)
class Clause:
    """A condition on one field of a record: field = any of values, or (contains) the list
    field holds one of them. field None means always true. also: conditions that must hold
    as well (a public problem is published *and* not confidential)."""

    field: str | None
    values: tuple = ()
    op: Op = "eq"
    also: tuple[Clause, ...] = ()

    def holds(self, record: dict[str, Any]) -> bool:
        """Whether the record meets the condition."""
        return self._holds_alone(record) and all(c.holds(record) for c in self.also)

    def _holds_alone(self, record: dict[str, Any]) -> bool:
        if self.field is None:
            return True
        value = record.get(self.field)
        if self.op == "contains":
            return any(v in (value or ()) for v in self.values)
        return value is not None and value in self.values


ALWAYS = Clause(None)


def scope_of(principal: Principal, resource: str, action: str) -> Scope:
    """The scope the table grants this principal for (resource, action)."""
    row = PERMISSIONS.get((resource, action))
    if row is None:
        raise KeyError(f"no permission row for {resource}.{action}")
    if principal.role == VISITOR_ROLE:
        return VISITOR_PERMISSIONS.get((resource, action), N)
    return row[ROLES.index(principal.role)]


def _own_clauses(principal: Principal, resource: str) -> list[Clause]:
    """What OWN means for each resource, as conditions on the record's fields (never names)."""
    p = principal
    table: dict[str, list[tuple[str, Any, Op]]] = {
        "problem": [("owner_id", p.id, "eq"), ("organization_id", p.organization_id, "eq")],
        "expert": [("id", p.expert_id, "eq")],
        "achievement": [("expert_ids", p.expert_external_id, "contains")],
        "organization": [("id", p.organization_id, "eq")],
    }
    candidates = table.get(resource)
    if candidates is None:
        return [ALWAYS]
    return [Clause(f, (v,), op) for f, v, op in candidates if v is not None]


def clauses(
    principal: Principal, resource: str, action: str, *, published: bool = True
) -> tuple[Clause, ...]:
    """The records the principal may act on, as a disjunction of conditions.

    allows(), the SQL filters and the search backends all evaluate these same conditions.
    published=False leaves out the PUBLISHED scope (what may be read in full).
    """
    scope = scope_of(principal, resource, action)
    if ALL in scope:
        return (ALWAYS,)
    out: list[Clause] = []
    if OWN in scope:
        out += _own_clauses(principal, resource)
    if REGION in scope and principal.region is not None:
        out.append(Clause("region", (principal.region,)))
    if PUB in scope and published and resource == "problem":
        out.append(Clause("status", PUBLISHED_STATUSES))
    if PUBLIC in scope and published and resource == "problem":
        out.append(Clause("status", PUBLISHED_STATUSES, also=(Clause("confidential", (False,)),)))
    return tuple(out)


def owns(principal: Principal, resource: str, record: dict[str, Any]) -> bool:
    """Whether the record belongs to the principal in the sense of the OWN scope."""
    return any(c.holds(record) for c in _own_clauses(principal, resource))


def allows(principal: Principal, resource: str, action: str, record: dict[str, Any]) -> bool:
    """Whether the principal may act on this record."""
    return any(c.holds(record) for c in clauses(principal, resource, action))


def require(principal: Principal, resource: str, action: str, record: dict[str, Any]) -> None:
    """Raise Forbidden unless allows()."""
    if not allows(principal, resource, action, record):
        raise Forbidden(
            f"你无权对该{_NAMES.get(resource, resource)}执行此操作 / not allowed",
            key="error.not_allowed",
            params={"resource": resource},
        )


def require_any(principal: Principal, resource: str, action: str) -> Scope:
    """Raise Forbidden when the role has no scope at all for the action; return the scope."""
    scope = scope_of(principal, resource, action)
    if scope == N:
        raise Forbidden(
            f"你的角色无权执行此操作 / role {principal.role} may not {action} {resource}",
            key="error.role_may_not",
            params={"role": principal.role},
        )
    return scope


def may(principal: Principal, resource: str, action: str) -> bool:
    """Whether the role has any scope at all for the action."""
    return scope_of(principal, resource, action) != N


def only_own(principal: Principal, resource: str, action: str) -> bool:
    """Whether the principal may do this to its own records and nothing else (e.g. an
    enterprise editing its problems: it writes for its organization, within the owner's
    limits)."""
    return scope_of(principal, resource, action) == OWN


def regional(role: str) -> bool:
    """Whether the role acts within a region (its accounts need one)."""
    column = ROLES.index(role)
    return any(REGION in row[column] for row in PERMISSIONS.values())


def posts_for_organization(role: str) -> bool:
    """Whether the role posts problems only as its own (for its organization)."""
    return PERMISSIONS[("problem", "create")][ROLES.index(role)] == OWN


def covers_all(principal: Principal, resource: str, action: str) -> bool:
    """Whether the principal may do this to every record (platform-wide staff)."""
    return ALL in scope_of(principal, resource, action)


def own_filter(principal: Principal, resource: str, alias: str) -> tuple[str, list[Any]]:
    """SQL condition: the record is the principal's own (OWN scope, whatever the role)."""
    return clauses_sql(tuple(_own_clauses(principal, resource)), alias)


def full_problem_clauses(principal: Principal) -> tuple[Clause, ...]:
    """Who may read a confidential problem in full: problem.read without PUBLISHED."""
    return clauses(principal, "problem", "read", published=False)


def sees_full_problem(principal: Principal, record: dict[str, Any]) -> bool:
    """Whether the principal may read a confidential problem's full text."""
    if not record.get("confidential"):
        return True
    return any(c.holds(record) for c in full_problem_clauses(principal))


def clauses_sql(conditions: tuple[Clause, ...], alias: str) -> tuple[str, list[Any]]:
    """A disjunction of clauses as SQL on the columns of table alias (same field names)."""
    if any(c.field is None and not c.also for c in conditions):
        return "TRUE", []
    parts: list[str] = []
    params: list[Any] = []
    for c in conditions:
        terms: list[str] = []
        for one in (c, *c.also):
            if one.field is None:
                continue
            column = f"{alias}.{one.field}"
            terms.append(f"{column} && %s" if one.op == "contains" else f"{column} = ANY(%s)")
            params.append(list(one.values))
        parts.append("(" + " AND ".join(terms or ["TRUE"]) + ")")
    return "(" + " OR ".join(parts or ["FALSE"]) + ")", params


def problem_read_filter(principal: Principal, alias: str = "p") -> tuple[str, list[Any]]:
    """SQL condition restricting problems to those the principal may read."""
    return clauses_sql(clauses(principal, "problem", "read"), alias)


def problem_full_filter(principal: Principal, alias: str = "p") -> tuple[str, list[Any]]:
    """SQL condition: the problem is not confidential or the principal may read it in full."""
    condition, params = clauses_sql(full_problem_clauses(principal), alias)
    return f"(NOT {alias}.confidential OR {condition})", params


def problem_found_filter(principal: Principal, alias: str = "p") -> tuple[str, list[Any]]:
    """SQL condition: the problems a search may show the principal: readable, and not
    confidential unless readable in full (search indexes the hidden text)."""
    readable, params = problem_read_filter(principal, alias)
    full, more = problem_full_filter(principal, alias)
    return f"{readable} AND {full}", [*params, *more]


def organization_read_filter(principal: Principal, alias: str = "o") -> tuple[str, list[Any]]:
    """SQL condition restricting organizations to those the principal may see."""
    return clauses_sql(clauses(principal, "organization", "read"), alias)


_NAMES = {
    "problem": "需求",
    "achievement": "成果",
    "expert": "专家",
    "stats": "统计",
    "organization": "组织",
}
