"""The portal's view of the matcher: recommendations with reasons, answers, invitations.

Rankings and reasons come from the matcher; feedback actions go through its feedback module,
which checks who may act on which match. Only the small read-outs the pages need are here.
"""

from __future__ import annotations

from typing import Any

from greenplat.core.db import Connection
from greenplat.core.errors import Conflict, InvalidInput, NotFound
from greenplat.core.permissions import Principal
from greenplat.core.problems import service as problems
from greenplat.matcher import feedback
from greenplat.matcher.models import FeedbackCreate
from greenplat.platform import Platform

ANSWERS = ("interested", "declined")
RECS_SHOWN = 8
INBOX_PAGE = 10


def _states(conn: Connection, problem_ids: list[int], expert_id: int | None = None):
    """(problem, expert) -> the latest action on that pair (viewed excluded)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (problem_id, expert_id) problem_id, expert_id, action, reason"
        " FROM match_feedback WHERE problem_id = ANY(%s) AND expert_id IS NOT NULL"
        " AND (%s::bigint IS NULL OR expert_id = %s) AND action <> 'viewed'"
        " ORDER BY problem_id, expert_id, created_at DESC, id DESC",
        (problem_ids, expert_id, expert_id),
    ).fetchall()
    return {(r["problem_id"], r["expert_id"]): r for r in rows}


def response_counts(conn: Connection, problem_ids: list[int]) -> dict[int, int]:
    """Problem id -> how many experts answered it (interested or declined)."""
    rows = conn.execute(
        "SELECT problem_id, count(DISTINCT expert_id) AS n FROM match_feedback"
        " WHERE problem_id = ANY(%s) AND action = ANY(%s) GROUP BY problem_id",
        (problem_ids, list(ANSWERS)),
    ).fetchall()
    return {r["problem_id"]: r["n"] for r in rows}


def answers(conn: Connection, principal: Principal, problem_id: int) -> list[dict]:
    """What experts and the enterprise did on this problem's matches, newest first."""
    page = feedback.list(conn=conn, principal=principal, problem_id=problem_id, page_size=100)
    ids = [f.expert_id for f in page.items if f.expert_id is not None]
    names = {
        r["id"]: r["name"]
        for r in conn.execute("SELECT id, name FROM experts WHERE id = ANY(%s)", (ids,))
    }
    return [
        {**f.model_dump(), "expert_name": names.get(f.expert_id, "")}
        for f in page.items
        if f.expert_id is not None and f.action != "viewed"
    ]


def recommend_for_problem(
    platform: Platform, conn: Connection, principal: Principal, problem_id: int
) -> dict:
    """The matcher's experts and achievements for a problem, each with its reasons."""
    matcher = platform.matcher
    found = matcher.problem_experts(
        problem_id, conn=conn, principal=principal, page_size=RECS_SHOWN
    ).items
    works = matcher.problem_achievements(
        problem_id, conn=conn, principal=principal, page_size=RECS_SHOWN
    ).items
    states = _states(conn, [problem_id])
    experts = [
        {
            "id": m.id,
            "label": m.title,
            "subtitle": " · ".join(
                x for x in (m.record.get("title"), m.record.get("organization")) if x
            ),
            "score": m.score,
            "level": m.level,
            "probability": m.components.get("probability"),
            "why": m.reasons,
            "state": (states.get((problem_id, m.id)) or {}).get("action"),
        }
        for m in found
    ]
    achievements = [
        {
            "id": m.id,
            "label": m.title,
            "subtitle": " · ".join(
                str(x)
                for x in (
                    m.record.get("discipline"),
                    m.record.get("organization"),
                    m.record.get("year"),
                )
                if x
            ),
            "score": m.score,
            "level": m.level,
            "probability": m.components.get("probability"),
            "why": m.reasons,
        }
        for m in works
    ]
    return {"experts": experts, "achievements": achievements}


def act(
    conn: Connection,
    principal: Principal,
    problem_id: int,
    expert_id: int,
    action: str,
    reason: str | None = None,
) -> None:
    """Record one action on the (problem, expert) match; the feedback module checks who may."""
    latest = _states(conn, [problem_id], expert_id).get((problem_id, expert_id))
    if latest is not None and latest["action"] == action:
        raise Conflict(f"已记录过此操作 / already recorded: {action}", field="action")
    try:
        data = FeedbackCreate(
            problem_id=problem_id, expert_id=expert_id, action=action, reason=reason or None
        )
    except ValueError:
        raise InvalidInput("婉拒时须填写理由 / a reason is required", field="reason") from None
    feedback.create(conn=conn, principal=principal, data=data)


def invite(conn: Connection, principal: Principal, problem_id: int, expert_id: int) -> None:
    """Invite an expert to answer a problem."""
    act(conn, principal, problem_id, expert_id, "invited")


def inbox(
    platform: Platform,
    conn: Connection,
    principal: Principal,
    *,
    page: int = 1,
    region: str = "",
    industry: str = "",
    level: str = "",
) -> tuple[list[dict[str, Any]], bool]:
    """One page of the expert's matched requests ranked by fit, with reasons and the expert's
    own answer, and whether more follow."""
    if principal.expert_id is None:
        raise NotFound("你的账号未关联专家档案 / your account has no expert profile")
    found = platform.matcher.expert_problems(
        principal.expert_id,
        conn=conn,
        principal=principal,
        page=page,
        page_size=INBOX_PAGE,
        region=region or None,
        industry=industry or None,
        level=level or None,
    )
    states = _states(conn, [m.id for m in found.items], principal.expert_id)
    items = [{"match": m, "state": states.get((m.id, principal.expert_id))} for m in found.items]
    return items, found.has_more


def invitations(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """Problems the expert was invited to, newest first, with the expert's latest answer."""
    if principal.expert_id is None:
        raise NotFound("你的账号未关联专家档案 / your account has no expert profile")
    invited = feedback.list(
        conn=conn, principal=principal, expert_id=principal.expert_id, action="invited"
    ).items
    ids = list(dict.fromkeys(f.problem_id for f in invited))
    states = _states(conn, ids, principal.expert_id)
    out: list[dict[str, Any]] = []
    for f in invited:
        problem = problems.get(conn=conn, principal=principal, problem_id=f.problem_id)
        if problem is None or any(o["problem"].id == problem.id for o in out):
            continue
        state = states.get((problem.id, principal.expert_id))
        out.append({"problem": problem, "invited_at": f.created_at, "state": state})
    return out
