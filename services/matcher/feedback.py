"""Feedback on matches: who did what to which pair, and when. It feeds rules and statistics."""

from __future__ import annotations

import builtins
from typing import Any

from greenplat.core.db import Connection, one
from greenplat.core.errors import Forbidden, InvalidInput, NotFound
from greenplat.core.permissions import (
    Principal,
    allows,
    clauses_sql,
    full_problem_clauses,
    owns,
    require_any,
)
from greenplat.matcher.models import FeedbackCreate, FeedbackPage, FeedbackRead

_COLUMNS = (
    "id, problem_id, expert_id, achievement_id, action, reason, actor_id, actor_role, created_at"
)


def _one(conn: Connection, table: str, record_id: int, name: str) -> dict[str, Any]:
    row = conn.execute(f"SELECT * FROM {table} WHERE id = %s", (record_id,)).fetchone()
    if row is None:
        raise NotFound(f"{name} {record_id} 不存在 / {table[:-1]} {record_id} not found")
    return row


def _may_act(principal: Principal, problem: dict, expert: dict | None, achievement: dict | None):
    """Enterprises act on their own problems' matches, experts on matches that name them."""
    if principal.role == "platform_admin":
        return True
    if principal.role == "enterprise":
        return owns(principal, "problem", problem)
    if principal.role == "expert":
        if expert is not None:
            return owns(principal, "expert", expert)
        return achievement is not None and owns(principal, "achievement", achievement)
    return False


def check(data: FeedbackCreate) -> None:
    """A match names one expert or one achievement; a decline says why."""
    if (data.expert_id is None) == (data.achievement_id is None):
        raise InvalidInput(
            "请指定专家或成果之一 / give exactly one of expert_id or achievement_id",
            field="expert_id",
        )
    if data.action == "declined" and not data.reason:
        raise InvalidInput("拒绝时请说明原因 / a decline needs a reason", field="reason")


def create(*, conn: Connection, principal: Principal, data: FeedbackCreate) -> FeedbackRead:
    """Store one action on a match, with who and when."""
    require_any(principal, "feedback", "create")
    check(data)
    problem = _one(conn, "problems", data.problem_id, "需求")
    if not allows(principal, "problem", "read", problem):
        raise NotFound(f"需求 {data.problem_id} 不存在 / problem {data.problem_id} not found")
    expert = _one(conn, "experts", data.expert_id, "专家") if data.expert_id else None
    achievement = (
        _one(conn, "achievements", data.achievement_id, "成果") if data.achievement_id else None
    )
    if not _may_act(principal, problem, expert, achievement):
        raise Forbidden("你无权对该匹配反馈 / you may not act on this match")
    return record(conn=conn, principal=principal, data=data)


def record(*, conn: Connection, principal: Principal, data: FeedbackCreate) -> FeedbackRead:
    """Insert a feedback row the caller has already authorised."""
    check(data)
    row = one(
        conn,
        "INSERT INTO match_feedback"
        " (problem_id, expert_id, achievement_id, action, reason, actor_id, actor_role)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (
            data.problem_id,
            data.expert_id,
            data.achievement_id,
            data.action,
            data.reason,
            principal.id,
            principal.role,
        ),
    )
    return FeedbackRead(**row)


def _visible(principal: Principal) -> tuple[str, builtins.list[Any]]:
    """SQL condition (aliases f, p) on the feedback a principal may list: feedback on the
    problems it may read in full (owners, their sub-center, staff), and feedback naming the
    principal's own expert profile or its achievements."""
    condition, params = clauses_sql(full_problem_clauses(principal), "p")
    return (
        f"({condition} OR f.expert_id = %s OR f.achievement_id IN"
        " (SELECT id FROM achievements WHERE %s = ANY(expert_ids)))",
        [*params, principal.expert_id, principal.expert_external_id],
    )


def list(
    *,
    conn: Connection,
    principal: Principal,
    problem_id: int | None = None,
    expert_id: int | None = None,
    action: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> FeedbackPage:
    """Feedback the principal may see, newest first."""
    condition, params = _visible(principal)
    where = [condition]
    for column, value in (("problem_id", problem_id), ("expert_id", expert_id), ("action", action)):
        if value is not None:
            where.append(f"f.{column} = %s")
            params.append(value)
    sql_where = " AND ".join(where)
    base = f"FROM match_feedback f JOIN problems p ON p.id = f.problem_id WHERE {sql_where}"
    total = one(conn, f"SELECT count(*) AS n {base}", params)["n"]
    columns = ", ".join(f"f.{c.strip()}" for c in _COLUMNS.split(","))
    rows = conn.execute(
        f"SELECT {columns} {base} ORDER BY f.created_at DESC, f.id DESC LIMIT %s OFFSET %s",
        [*params, page_size, (page - 1) * page_size],
    ).fetchall()
    return FeedbackPage(
        items=[FeedbackRead(**row) for row in rows], total=total, page=page, page_size=page_size
    )
