"""Problems (企业技术难题/需求): confidential reading, writing, and the review life cycle."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

from psycopg import sql

from greenplat.core import links, store
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput, InvalidTransition, NotFound
from greenplat.core.notifications import service as notifications
from greenplat.core.organizations import service as organizations
from greenplat.core.outbox import record_change
from greenplat.core.permissions import (
    Principal,
    allows,
    only_own,
    own_filter,
    problem_full_filter,
    problem_read_filter,
    require,
    require_any,
    sees_full_problem,
)
from greenplat.core.problems.models import (
    ProblemCreate,
    ProblemEvent,
    ProblemPage,
    ProblemRead,
    ProblemRecord,
    ProblemReview,
    ProblemUpdate,
)
from greenplat.core.reference import service as reference

# Field names of ProblemRead, looked up per row (model_fields is a descriptor, 13x a set).
_PROBLEM_READ_FIELDS = frozenset(ProblemRead.model_fields)

FIELDS = (
    "title",
    "description",
    "keywords",
    "industry",
    "region",
    "organization",
    "budget_wan",
    "deadline",
    "confidential",
    "public_summary",
)
SORTABLE = ("created_at", "updated_at", "title", "deadline", "budget_wan", "status", "id")
# Held back from readers who may not see a confidential problem's full text: they can neither
# read these fields nor filter, search or sort by them (list() treats them as NULL).
WITHHELD: dict[str, Any] = {
    "description": None,
    "keywords": [],
    "organization": None,
    "organization_id": None,
    "budget_wan": None,
    "owner_id": None,
    "review_comment": None,
}
EDITABLE_BY_OWNER = ("draft", "returned")

# action: (statuses it may start from, status it leads to, permission action)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "submit": (("draft", "returned"), "submitted", "submit"),
    "approve": (("submitted",), "approved", "review"),
    "return": (("submitted",), "returned", "review"),
    "match": (("approved",), "matched", "match"),
    "close": (("approved", "matched"), "closed", "close"),
}
# Statuses of a problem open to matching: entered by approving, left by closing.
MATCHING = (TRANSITIONS["approve"][1], TRANSITIONS["match"][1])
_STAMPS = {"submitted": "submitted_at", "approved": "approved_at", "closed": "closed_at"}
_STATUS_NAMES = {
    "draft": "草稿",
    "submitted": "待审核",
    "approved": "已通过",
    "returned": "已退回",
    "matched": "已匹配",
    "closed": "已关闭",
}


def _not_found(ref: int | str) -> NotFound:
    """The refusal naming the problem as the reader addressed it (an external id in pages)."""
    return NotFound(
        f"需求 {ref} 不存在 / problem {ref} not found",
        key="error.problem_not_found",
        params={"id": ref},
    )


def _row(conn: Connection, problem_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    lock_sql = " FOR UPDATE" if lock else ""
    return conn.execute(f"SELECT * FROM problems WHERE id = %s{lock_sql}", (problem_id,)).fetchone()


def _row_or_raise(conn: Connection, problem_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = _row(conn, problem_id, lock=lock)
    if row is None:
        raise _not_found(problem_id)
    return row


def to_read(row: dict[str, Any], principal: Principal) -> ProblemRead:
    """The problem as this principal may see it: confidential text withheld unless allowed."""
    data = {k: v for k, v in row.items() if k in _PROBLEM_READ_FIELDS}
    if not sees_full_problem(principal, row):
        data.update(WITHHELD, extra={}, redacted=True)
    return ProblemRead(**data)


def _readable(principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    if not allows(principal, "problem", "read", row):
        # Someone who may not read a problem learns nothing about it, not even that it exists.
        raise _not_found(row["external_id"])
    return row


def _read_one(
    conn: Connection, principal: Principal, row: dict[str, Any] | None
) -> ProblemRead | None:
    if row is None or not allows(principal, "problem", "read", row):
        return None
    audit.read_problem(conn, principal, row)
    return to_read(row, principal)


def get(*, conn: Connection, principal: Principal, problem_id: int) -> ProblemRead | None:
    """The problem with this id as the principal may see it, or None."""
    return _read_one(conn, principal, _row(conn, problem_id))


def get_or_raise(*, conn: Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Like get, raising NotFound."""
    row = _readable(principal, _row_or_raise(conn, problem_id))
    audit.read_problem(conn, principal, row)
    return to_read(row, principal)


def get_by_external_id(
    *, conn: Connection, principal: Principal, external_id: str
) -> ProblemRead | None:
    """The problem with this external_id as the principal may see it, or None."""
    row = conn.execute("SELECT * FROM problems WHERE external_id = %s", (external_id,)).fetchone()
    return _read_one(conn, principal, row)


def _readable_by_external_id(
    conn: Connection, principal: Principal, external_id: str
) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM problems WHERE external_id = %s", (external_id,)).fetchone()
    if row is None or not allows(principal, "problem", "read", row):
        # Unknown and unreadable alike: the reader learns nothing, not even that it exists.
        raise _not_found(external_id)
    return row


def get_by_external_id_or_raise(
    *, conn: Connection, principal: Principal, external_id: str
) -> ProblemRead:
    """The problem with this external_id as the principal may see it, raising NotFound."""
    row = _readable_by_external_id(conn, principal, external_id)
    audit.read_problem(conn, principal, row)
    return to_read(row, principal)


def id_by_external_id_or_raise(*, conn: Connection, principal: Principal, external_id: str) -> int:
    """The internal id of a problem the principal may read, for an action on it (the action
    checks its own permission); NotFound otherwise. Nothing is read, so nothing is audited."""
    return int(_readable_by_external_id(conn, principal, external_id)["id"])


def _seen(column: str) -> str:
    """A withheld column as list() may filter and sort by it: NULL where the reader may not
    read the problem in full (p._full, computed by the permission module's rule)."""
    return f"(CASE WHEN p._full THEN p.{column} END)"


def _readable_source(principal: Principal) -> tuple[sql.Composable, builtins.list[Any]]:
    """The problems the principal may read, each with _full: may it read the row in full."""
    readable, params = problem_read_filter(principal, "r")
    full, more = problem_full_filter(principal, "r")
    query = f"(SELECT r.*, {full} AS _full FROM problems r WHERE {readable})"
    return sql.SQL(query), [*more, *params]


def _keyword_condition(q: str) -> tuple[str, builtins.list[Any]]:
    pattern = store.like_pattern(q)
    condition = (
        f"(p.title ILIKE %s OR {_seen('description')} ILIKE %s"
        f" OR array_to_string({_seen('keywords')}, ' ') ILIKE %s)"
    )
    return condition, [pattern] * 3


def list(
    *,
    conn: Connection,
    principal: Principal,
    region: str | None = None,
    industry: str | None = None,
    status: str | None = None,
    organization: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 20,
    sort: str | None = None,
    own: bool = False,
) -> ProblemPage:
    """One page of the problems the principal may read, filtered and sorted on what it sees
    (own=True: only its own)."""
    source, params = _readable_source(principal)
    where: builtins.list[str] = []
    if own:
        condition, more = own_filter(principal, "problem", "p")
        where.append(condition)
        params += more
    for column, value in (
        ("p.region", region),
        ("p.industry", industry),
        ("p.status", status),
        # Same as _seen("organization") = %s, written so the column's index still serves it.
        ("p._full AND p.organization", organization),
    ):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    if q:
        condition, more = _keyword_condition(q)
        where.append(condition)
        params += more
    hidden_sorts = {name: _seen(name) for name in SORTABLE if name in WITHHELD}
    rows, total = store.fetch_page(
        conn,
        source,
        where=where,
        params=params,
        order=store.order_by(sort, SORTABLE, "-created_at", hidden_sorts),
        page=page,
        page_size=page_size,
    )
    items = [to_read(r, principal) for r in rows]
    return ProblemPage(items=items, total=total, page=page, page_size=page_size)


def _event(
    conn: Connection,
    problem_id: int,
    from_status: str | None,
    to_status: str,
    actor: Principal | None,
    comment: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO problem_events (problem_id, from_status, to_status, actor_id, comment) "
        "VALUES (%s, %s, %s, %s, %s)",
        (problem_id, from_status, to_status, actor.id if actor else None, comment),
    )


def _write(
    conn: Connection,
    values: dict[str, Any],
    *,
    keep_owner: bool = False,
    only_new: bool = False,
) -> tuple[int, bool, bool]:
    keep = ("owner_id",) if keep_owner else ()
    values = {**values, "organization_id": _organization_id(conn, values)}
    problem_id, created, changed = store.upsert(
        conn, "problems", values, keep_when_null=keep, only_new=only_new
    )
    if changed:
        record_change(conn, "problems", problem_id)
    return problem_id, created, changed


def _organization_id(conn: Connection, values: dict[str, Any]) -> int | None:
    """The organization record a problem's organization name stands for.

    Only staff, imports and an enterprise writing for its own organization name one here
    (an enterprise cannot change it), so a name new to the platform is a verified record.
    """
    name = values.get("organization")
    if not name:
        return None
    return organizations.ensure(
        conn=conn, name=name, kind="enterprise", region=values["region"], verified=True
    )


def upsert_record(
    *, conn: Connection, record: ProblemRecord, owner_id: int | None = None
) -> tuple[int, bool]:
    """Store an interchange record by external_id (import); returns (id, created)."""
    contract = record.model_dump(include={"external_id", "status", *FIELDS})
    extra = dict(record.model_extra or {})
    old = conn.execute(
        "SELECT status FROM problems WHERE external_id = %s", (record.external_id,)
    ).fetchone()
    values = {**contract, "extra": extra, "owner_id": owner_id}
    problem_id, created, _ = _write(conn, values, keep_owner=True)
    old_status = old["status"] if old else None
    if old_status != record.status:
        _event(conn, problem_id, old_status, record.status, None, "导入 / import")
    return problem_id, created


def _creation_values(principal: Principal, data: ProblemCreate) -> dict[str, Any]:
    values = data.model_dump(include=set(FIELDS))
    if only_own(principal, "problem", "create"):
        # One who may only post its own problems posts for its own organization.
        values["organization"] = principal.organization
    values["region"] = values["region"] or principal.region
    return values


def create(*, conn: Connection, principal: Principal, data: ProblemCreate) -> ProblemRead:
    """Create a draft problem owned by the principal."""
    require_any(principal, "problem", "create")
    values, _ = reference.normalise_record(
        conn=conn, library="problems", data=_creation_values(principal, data)
    )
    values.update(
        external_id=data.external_id or store.new_external_id("P"),
        extra=data.extra,
        owner_id=principal.id,
        status="draft",
    )
    require(principal, "problem", "create", values)
    problem_id, _, _ = _write(conn, values, only_new=True)
    _event(conn, problem_id, None, "draft", principal)
    return to_read(_row_or_raise(conn, problem_id), principal)


def allowed_transitions(principal: Principal, record: dict[str, Any]) -> set[str]:
    """The life-cycle actions (TRANSITIONS) the principal may take on the problem now."""
    return {
        action
        for action, (sources, _, permission) in TRANSITIONS.items()
        if record["status"] in sources and allows(principal, "problem", permission, record)
    }


def status_note(record: dict[str, Any]) -> str:
    """The situation the problem's page describes: its status, a closed problem told apart
    by whether it had been approved (and so had recommendations) before it closed."""
    if record["status"] == TRANSITIONS["close"][1]:
        return "closed_after_approval" if record.get("approved_at") else "closed"
    return str(record["status"])


def editable(principal: Principal, record: dict[str, Any]) -> bool:
    """Whether the principal may edit the problem now: owners only while it is a draft or
    returned, staff in their scope at any status."""
    if not allows(principal, "problem", "update", record):
        return False
    return not only_own(principal, "problem", "update") or record["status"] in EDITABLE_BY_OWNER


def update(
    *, conn: Connection, principal: Principal, problem_id: int, data: ProblemUpdate
) -> ProblemRead:
    """Change the given fields of a problem."""
    row = _readable(principal, _row_or_raise(conn, problem_id, lock=True))
    require(principal, "problem", "update", row)
    if not editable(principal, row):
        raise InvalidTransition(
            f"{_STATUS_NAMES[row['status']]}的需求不能修改，只有草稿或已退回的可以 / "
            f"a {row['status']} problem cannot be edited; only draft or returned ones",
            key="error.problem_not_editable",
            params={"status": row["status"], "statuses": [*EDITABLE_BY_OWNER]},
        )
    changes, _ = reference.normalise_record(
        conn=conn, library="problems", data=data.model_dump(exclude_unset=True)
    )
    if only_own(principal, "problem", "update"):
        changes.pop("organization", None)
    for name in ("title", "description", "keywords", "confidential", "extra"):
        if name in changes and changes[name] is None:
            raise InvalidInput(
                f"{name} 不能为空 / {name} cannot be null",
                field=name,
                key="error.required",
                params={"field": name},
            )
    merged = {**row, **changes}
    require(principal, "problem", "update", merged)
    values = {k: merged[k] for k in ("external_id", *FIELDS, "extra")}
    _write(conn, values)
    return to_read(_row_or_raise(conn, problem_id), principal)


def delete(*, conn: Connection, principal: Principal, problem_id: int) -> None:
    """Delete a problem and its events."""
    row = _readable(principal, _row_or_raise(conn, problem_id, lock=True))
    require(principal, "problem", "delete", row)
    conn.execute("DELETE FROM problems WHERE id = %s", (problem_id,))
    record_change(conn, "problems", problem_id, "delete")


def transition(
    *,
    conn: Connection,
    principal: Principal,
    problem_id: int,
    action: str,
    comment: str | None = None,
) -> ProblemRead:
    """Move a problem along its life cycle (submit, approve, return, match, close)."""
    sources, target, permission = TRANSITIONS[action]
    row = _readable(principal, _row_or_raise(conn, problem_id, lock=True))
    require(principal, "problem", permission, row)
    if row["status"] not in sources:
        allowed = "、".join(_STATUS_NAMES[s] for s in sources)
        raise InvalidTransition(
            f"需求当前为「{_STATUS_NAMES[row['status']]}」，"
            f"只有「{allowed}」的需求可以执行此操作 / "
            f"cannot {action} a {row['status']} problem (only from {', '.join(sources)})",
            key="error.problem_transition",
            params={"status": row["status"], "statuses": [*sources]},
        )
    if action == "approve":
        _check_verified(conn, row)
    if action == "return" and not (comment and comment.strip()):
        raise InvalidInput(
            "退回时须填写意见 / a comment is required to return",
            field="comment",
            key="error.return_needs_comment",
        )
    stamp = _STAMPS.get(target)
    stamp_sql = f", {stamp} = now()" if stamp else ""
    review_sql = ", review_comment = %(comment)s" if permission == "review" else ""
    conn.execute(
        f"UPDATE problems SET status = %(target)s, updated_at = now(){stamp_sql}{review_sql} "
        "WHERE id = %(id)s",
        {"target": target, "comment": comment, "id": problem_id},
    )
    _event(conn, problem_id, row["status"], target, principal, comment)
    record_change(conn, "problems", problem_id)
    stored = _row_or_raise(conn, problem_id)
    _announce(conn, stored, action, comment)
    return to_read(stored, principal)


def _announce(conn: Connection, row: dict[str, Any], action: str, comment: str | None) -> None:
    """Tell the owner the review's result, and the region's reviewers what waits for them."""
    link = links.problem(row["external_id"])
    if action in ("approve", "return"):
        params = {"variant": action, "comment": comment or ""}
        owners = notifications.owners_of(conn, row)
        notifications.notify(
            conn, recipients=owners, kind="review", problem=row, link=link, **params
        )
    elif action == "submit":
        reviewers = notifications.reviewers_of(conn, row)
        notifications.notify(
            conn,
            recipients=reviewers,
            kind="queue",
            problem=row,
            link=links.anchor("/subcenter/review", "p", row["external_id"]),
        )


def _check_verified(conn: Connection, row: dict[str, Any]) -> None:
    org_id = row["organization_id"]
    if org_id is not None and not organizations.is_verified(conn=conn, organization_id=org_id):
        raise InvalidTransition(
            f"组织「{row['organization']}」尚未核验，请先核验再通过其需求 / "
            "verify the problem's organization before approving its problems",
            key="error.organization_unverified",
            params={"organization": row["organization"]},
        )


def submit(*, conn: Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Send a draft or returned problem to its sub-center for review."""
    return transition(conn=conn, principal=principal, problem_id=problem_id, action="submit")


def review(
    *, conn: Connection, principal: Principal, problem_id: int, data: ProblemReview
) -> ProblemRead:
    """Approve or return a submitted problem, with a comment."""
    return transition(
        conn=conn,
        principal=principal,
        problem_id=problem_id,
        action=data.decision,
        comment=data.comment,
    )


def close(*, conn: Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Close an approved or matched problem."""
    return transition(conn=conn, principal=principal, problem_id=problem_id, action="close")


def mark_matched(*, conn: Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Record that an approved problem has found its match."""
    return transition(conn=conn, principal=principal, problem_id=problem_id, action="match")


def events(
    *, conn: Connection, principal: Principal, problem_id: int
) -> builtins.list[ProblemEvent]:
    """The status history of a problem, oldest first (who acted and why: for those who may
    read the problem in full)."""
    row = _readable(principal, _row_or_raise(conn, problem_id))
    if not sees_full_problem(principal, row):
        raise _not_found(problem_id)
    rows = conn.execute(
        "SELECT e.from_status, e.to_status, e.comment, e.created_at, u.username AS actor "
        "FROM problem_events e LEFT JOIN users u ON u.id = e.actor_id "
        "WHERE e.problem_id = %s ORDER BY e.id",
        (problem_id,),
    ).fetchall()
    return [ProblemEvent(**r) for r in rows]


def iter_records(*, conn: Connection) -> Iterator[dict[str, Any]]:
    """Every problem as an interchange record (contract fields, then extra), by id."""
    with conn.cursor(name="export_problems") as cur:
        cur.execute("SELECT * FROM problems ORDER BY id")
        for row in cur:
            record = {"external_id": row["external_id"], **{f: row[f] for f in FIELDS}}
            record["status"] = row["status"]
            yield {**record, **row["extra"]}
