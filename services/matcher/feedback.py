"""Feedback on matches: who did what to which pair, and when. It feeds rules and statistics."""

from __future__ import annotations

import builtins
from datetime import date
from typing import Any

import psycopg

from greenplat.core.db import Connection, one
from greenplat.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from greenplat.core.permissions import (
    Principal,
    allows,
    clauses_sql,
    full_problem_clauses,
    require_any,
)
from greenplat.core.problems import service as problems
from greenplat.matcher import announce, pipeline
from greenplat.matcher.models import FeedbackCreate, FeedbackPage, FeedbackRead

_COLUMNS = (
    "id, problem_id, expert_id, achievement_id, action, reason, actor_id, actor_role, created_at,"
    " note, proposal_approach, proposal_timeframe, proposal_cost, contract_kind, amount_wan,"
    " deal_date"
)
# Longest text each field takes (characters); the same limits for the API and the portal.
LIMITS = {
    "reason": 2000,
    "note": 2000,
    "proposal_approach": 4000,
    "proposal_timeframe": 200,
    "proposal_cost": 200,
}


def _one(conn: Connection, table: str, record_id: int, name: str) -> dict[str, Any]:
    row = conn.execute(f"SELECT * FROM {table} WHERE id = %s", (record_id,)).fetchone()
    if row is None:
        raise NotFound(f"{name} {record_id} 不存在 / {table[:-1]} {record_id} not found")
    return row


def check(data: FeedbackCreate) -> None:
    """A match names one expert or one achievement; a decline says why; texts fit their limits."""
    if (data.expert_id is None) == (data.achievement_id is None):
        raise InvalidInput(
            "请指定专家或成果之一 / give exactly one of expert_id or achievement_id",
            field="expert_id",
        )
    for field, limit in LIMITS.items():
        if len(getattr(data, field) or "") > limit:
            raise InvalidInput(
                f"内容过长（最多 {limit} 字）/ {field} is too long (at most {limit} characters)",
                field=field,
                key="error.too_long",
                params={"max": limit, "n": len(getattr(data, field) or "")},
            )
    if data.action == "declined" and not data.reason:
        raise InvalidInput(
            "婉拒时须填写理由 / a decline needs a reason",
            field="reason",
            key="error.decline_needs_reason",
        )
    if data.action == "deal" and data.contract_kind is None:
        raise InvalidInput(
            "请选择合同类型 / choose the contract kind",
            field="contract_kind",
            key="error.deal_needs_kind",
        )


def _authorise(
    conn: Connection, principal: Principal, data: FeedbackCreate
) -> tuple[dict, dict | None]:
    """The problem and expert, after checking the principal speaks for the action's side."""
    require_any(principal, "feedback", "create")
    problem = _one(conn, "problems", data.problem_id, "需求")
    if not allows(principal, "problem", "read", problem):
        raise NotFound(f"需求 {data.problem_id} 不存在 / problem {data.problem_id} not found")
    expert = _one(conn, "experts", data.expert_id, "专家") if data.expert_id else None
    achievement = (
        _one(conn, "achievements", data.achievement_id, "成果") if data.achievement_id else None
    )
    if not pipeline.may_take(
        data.action, None, pipeline.sides(principal, problem, expert, achievement)
    ):
        raise Forbidden(
            "你无权对该匹配执行此操作 / you may not take this action on this match",
            key="error.match_not_allowed",
        )
    return problem, expert


def _check_stage(conn: Connection, problem: dict, data: FeedbackCreate) -> None:
    """The same action twice is a conflict; a pipeline action must be valid from the stage."""
    repeated = conn.execute(
        "SELECT 1 FROM match_feedback WHERE problem_id = %s AND action = %s"
        " AND expert_id IS NOT DISTINCT FROM %s AND achievement_id IS NOT DISTINCT FROM %s",
        (data.problem_id, data.action, data.expert_id, data.achievement_id),
    ).fetchone()
    if repeated:
        raise Conflict(
            f"已记录过此操作 / already recorded: {data.action}",
            field="action",
            key="error.already_recorded",
        )
    if data.action in pipeline.NOTES or data.expert_id is None:
        return
    if problem["status"] not in pipeline.OPEN_STATUSES:
        raise InvalidTransition(
            "需求尚未发布或已关闭 / the problem is not open for matching",
            key="error.problem_not_open",
        )
    stage = pipeline.stage_of(conn, data.problem_id, data.expert_id)
    if data.action not in pipeline.TRANSITIONS or not pipeline.may_take(
        data.action, stage, {pipeline.TRANSITIONS[data.action][0]}
    ):
        raise InvalidTransition(
            f"当前阶段「{pipeline.STAGE_NAMES[stage]}」不能执行此操作 / "
            f"cannot record {data.action} at stage {stage}",
            field="action",
            key="error.stage_refuses",
            params={"stage": stage},
        )


def create(*, conn: Connection, principal: Principal, data: FeedbackCreate) -> FeedbackRead:
    """Store one action on a match, if the principal may take it from the pair's stage."""
    check(data)
    problem, expert = _authorise(conn, principal, data)
    pipeline.lock_pair(conn, data.problem_id, data.expert_id, data.achievement_id)
    _check_stage(conn, problem, data)
    stored = _insert(conn, principal, data)
    if data.action == "deal" and problem["status"] == "approved":
        problems.mark_matched(conn=conn, principal=principal, problem_id=data.problem_id)
    if data.action == "interested" and data.expert_id is not None:
        pipeline.record_consent(conn, data.problem_id, data.expert_id, stored.id)
    announce.after_feedback(conn, problem, expert, data)
    return stored


def _insert(conn: Connection, principal: Principal, data: FeedbackCreate) -> FeedbackRead:
    values = data.model_dump()
    values.update(actor_id=principal.id, actor_role=principal.role)
    if data.action == "deal" and data.deal_date is None:
        values["deal_date"] = date.today()
    columns = ", ".join(values)
    marks = ", ".join(f"%({c})s" for c in values)
    try:
        with conn.transaction():
            row = one(
                conn,
                f"INSERT INTO match_feedback ({columns}) VALUES ({marks}) RETURNING {_COLUMNS}",
                values,
            )
    except psycopg.errors.UniqueViolation:
        raise Conflict(
            f"已记录过此操作 / already recorded: {data.action}", field="action"
        ) from None
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
