"""Problems (企业技术难题/需求): confidential reading, writing, and the review life cycle."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import psycopg

from greenplat.core import store
from greenplat.core.errors import InvalidInput, InvalidTransition, NotFound
from greenplat.core.notifications import service as notifications
from greenplat.core.outbox import record_change
from greenplat.core.permissions import (
    Principal,
    allows,
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
)
SORTABLE = ("created_at", "updated_at", "title", "deadline", "budget_wan", "status", "id")
# Held back from readers who may not see a confidential problem's full text.
WITHHELD = {"description": None, "keywords": [], "organization": None, "budget_wan": None}
EDITABLE_BY_OWNER = ("draft", "returned")

# action: (statuses it may start from, status it leads to, permission action)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "submit": (("draft", "returned"), "submitted", "submit"),
    "approve": (("submitted",), "approved", "review"),
    "return": (("submitted",), "returned", "review"),
    "match": (("approved",), "matched", "match"),
    "close": (("approved", "matched"), "closed", "close"),
}
_STAMPS = {"submitted": "submitted_at", "approved": "approved_at", "closed": "closed_at"}
_STATUS_NAMES = {
    "draft": "草稿",
    "submitted": "待审核",
    "approved": "已通过",
    "returned": "已退回",
    "matched": "已匹配",
    "closed": "已关闭",
}


def _row(conn: psycopg.Connection, problem_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    lock_sql = " FOR UPDATE" if lock else ""
    return conn.execute(f"SELECT * FROM problems WHERE id = %s{lock_sql}", (problem_id,)).fetchone()


def _row_or_raise(
    conn: psycopg.Connection, problem_id: int, *, lock: bool = False
) -> dict[str, Any]:
    row = _row(conn, problem_id, lock=lock)
    if row is None:
        raise NotFound(f"需求 {problem_id} 不存在 / problem {problem_id} not found")
    return row


def to_read(row: dict[str, Any], principal: Principal) -> ProblemRead:
    """The problem as this principal may see it: confidential text withheld unless allowed."""
    data = {k: v for k, v in row.items() if k in ProblemRead.model_fields}
    if not sees_full_problem(principal, row):
        data.update(WITHHELD, extra={}, redacted=True)
    return ProblemRead(**data)


def _readable(principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    if not allows(principal, "problem", "read", row):
        # Someone who may not read a problem learns nothing about it, not even that it exists.
        raise NotFound(f"需求 {row['id']} 不存在 / problem {row['id']} not found")
    return row


def get(*, conn: psycopg.Connection, principal: Principal, problem_id: int) -> ProblemRead | None:
    """The problem with this id as the principal may see it, or None."""
    row = _row(conn, problem_id)
    if row is None or not allows(principal, "problem", "read", row):
        return None
    return to_read(row, principal)


def get_or_raise(*, conn: psycopg.Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Like get, raising NotFound."""
    return to_read(_readable(principal, _row_or_raise(conn, problem_id)), principal)


def get_by_external_id(
    *, conn: psycopg.Connection, principal: Principal, external_id: str
) -> ProblemRead | None:
    """The problem with this external_id as the principal may see it, or None."""
    row = conn.execute("SELECT * FROM problems WHERE external_id = %s", (external_id,)).fetchone()
    if row is None or not allows(principal, "problem", "read", row):
        return None
    return to_read(row, principal)


def list(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    region: str | None = None,
    industry: str | None = None,
    status: str | None = None,
    organization: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 20,
    sort: str | None = None,
) -> ProblemPage:
    """One page of the problems the principal may read, filtered and sorted."""
    condition, params = problem_read_filter(principal)
    where, params = [condition], builtins.list(params)
    for column, value in (
        ("region", region),
        ("industry", industry),
        ("status", status),
        ("organization", organization),
    ):
        if value:
            where.append(f"p.{column} = %s")
            params.append(value)
    if q:
        cond, more = store.keyword_condition(("title", "description", "keywords[]"), q)
        where.append(cond)
        params += more
    rows, total = store.fetch_page(
        conn,
        "problems",
        where=where,
        params=params,
        order=store.order_by(sort, SORTABLE, "-created_at"),
        page=page,
        page_size=page_size,
    )
    items = [to_read(r, principal) for r in rows]
    return ProblemPage(items=items, total=total, page=page, page_size=page_size)


def _event(
    conn: psycopg.Connection,
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
    conn: psycopg.Connection,
    values: dict[str, Any],
    *,
    keep_owner: bool = False,
    only_new: bool = False,
) -> tuple[int, bool, bool]:
    keep = ("owner_id",) if keep_owner else ()
    problem_id, created, changed = store.upsert(
        conn, "problems", values, keep_when_null=keep, only_new=only_new
    )
    if changed:
        record_change(conn, "problems", problem_id)
    return problem_id, created, changed


def upsert_record(
    *, conn: psycopg.Connection, record: ProblemRecord, owner_id: int | None = None
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
    if principal.role == "enterprise":
        # An enterprise posts for itself: its organization, and its region unless it names one.
        values["organization"] = principal.organization
        values["region"] = values["region"] or principal.region
    elif principal.role == "subcenter_admin":
        values["region"] = values["region"] or principal.region
    return values


def create(*, conn: psycopg.Connection, principal: Principal, data: ProblemCreate) -> ProblemRead:
    """Create a draft problem owned by the principal."""
    require_any(principal, "problem", "create")
    values = _creation_values(principal, data)
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


def update(
    *, conn: psycopg.Connection, principal: Principal, problem_id: int, data: ProblemUpdate
) -> ProblemRead:
    """Change the given fields of a problem."""
    row = _readable(principal, _row_or_raise(conn, problem_id, lock=True))
    require(principal, "problem", "update", row)
    if principal.role == "enterprise" and row["status"] not in EDITABLE_BY_OWNER:
        raise InvalidTransition(
            f"{_STATUS_NAMES[row['status']]}的需求不能修改，只有草稿或已退回的可以 / "
            f"a {row['status']} problem cannot be edited; only draft or returned ones"
        )
    changes = data.model_dump(exclude_unset=True)
    if principal.role == "enterprise":
        changes.pop("organization", None)
    for name in ("title", "description", "confidential", "extra"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} 不能为空 / {name} cannot be null", field=name)
    merged = {**row, **changes}
    require(principal, "problem", "update", merged)
    values = {k: merged[k] for k in ("external_id", *FIELDS, "extra")}
    _write(conn, values)
    return to_read(_row_or_raise(conn, problem_id), principal)


def delete(*, conn: psycopg.Connection, principal: Principal, problem_id: int) -> None:
    """Delete a problem and its events."""
    row = _readable(principal, _row_or_raise(conn, problem_id, lock=True))
    require(principal, "problem", "delete", row)
    conn.execute("DELETE FROM problems WHERE id = %s", (problem_id,))
    record_change(conn, "problems", problem_id, "delete")


def transition(
    *,
    conn: psycopg.Connection,
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
            f"cannot {action} a {row['status']} problem (only from {', '.join(sources)})"
        )
    if action == "return" and not (comment and comment.strip()):
        raise InvalidInput("退回时须填写意见 / a comment is required to return", field="comment")
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


def _announce(conn: psycopg.Connection, row: dict[str, Any], action: str, comment: str | None):
    """Tell the owner the review's result, and the region's reviewers what waits for them."""
    link = f"/problems/{row['id']}"
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
            link=f"/subcenter/review#p{row['id']}",
        )


def submit(*, conn: psycopg.Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Send a draft or returned problem to its sub-center for review."""
    return transition(conn=conn, principal=principal, problem_id=problem_id, action="submit")


def review(
    *, conn: psycopg.Connection, principal: Principal, problem_id: int, data: ProblemReview
) -> ProblemRead:
    """Approve or return a submitted problem, with a comment."""
    return transition(
        conn=conn,
        principal=principal,
        problem_id=problem_id,
        action=data.decision,
        comment=data.comment,
    )


def close(*, conn: psycopg.Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Close an approved or matched problem."""
    return transition(conn=conn, principal=principal, problem_id=problem_id, action="close")


def mark_matched(*, conn: psycopg.Connection, principal: Principal, problem_id: int) -> ProblemRead:
    """Record that an approved problem has found its match."""
    return transition(conn=conn, principal=principal, problem_id=problem_id, action="match")


def events(
    *, conn: psycopg.Connection, principal: Principal, problem_id: int
) -> builtins.list[ProblemEvent]:
    """The status history of a problem, oldest first."""
    _readable(principal, _row_or_raise(conn, problem_id))
    rows = conn.execute(
        "SELECT e.from_status, e.to_status, e.comment, e.created_at, u.username AS actor "
        "FROM problem_events e LEFT JOIN users u ON u.id = e.actor_id "
        "WHERE e.problem_id = %s ORDER BY e.id",
        (problem_id,),
    ).fetchall()
    return [ProblemEvent(**r) for r in rows]


def iter_records(*, conn: psycopg.Connection) -> Iterator[dict[str, Any]]:
    """Every problem as an interchange record (contract fields, then extra), by id."""
    with conn.cursor(name="export_problems") as cur:
        cur.execute("SELECT * FROM problems ORDER BY id")
        for row in cur:
            record = {"external_id": row["external_id"], **{f: row[f] for f in FIELDS}}
            record["status"] = row["status"]
            yield {**record, **row["extra"]}
