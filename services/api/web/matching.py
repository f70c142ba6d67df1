"""The portal's view of the matcher: recommendations with reasons, answers, invitations.

Rankings and reasons come from the matcher; actions go through its feedback service, which
checks who may take which action from which stage (matcher/pipeline.py). Only the small
read-outs the pages need are here.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from greenplat.core.contacts import service as contacts
from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput, NotFound
from greenplat.core.permissions import Principal
from greenplat.core.problems import service as problems
from greenplat.matcher import feedback, pipeline
from greenplat.matcher.models import FeedbackCreate
from greenplat.matcher.relevance import LEVELS
from greenplat.platform import Platform

from .forms import REASONS

ANSWERS = ("interested", "declined")
RECS_SHOWN = 8
# Form fields an action may carry, besides the pair and the action itself.
DETAILS = (
    "reason",
    "note",
    "proposal_approach",
    "proposal_timeframe",
    "proposal_cost",
    "contract_kind",
    "amount_wan",
    "deal_date",
)
INBOX_PAGE = 10


def response_counts(conn: Connection, problem_ids: list[int]) -> dict[int, int]:
    """Problem id -> how many experts answered it (interested or declined)."""
    rows = conn.execute(
        "SELECT problem_id, count(DISTINCT expert_id) AS n FROM match_feedback"
        " WHERE problem_id = ANY(%s) AND action = ANY(%s) GROUP BY problem_id",
        (problem_ids, list(ANSWERS)),
    ).fetchall()
    return {r["problem_id"]: r["n"] for r in rows}


def my_pair(conn: Connection, principal: Principal, problem: dict) -> dict | None:
    """The expert's own place in this problem's pipeline, with the enterprise's contacts."""
    if principal.expert_id is None:
        return None
    stage = pipeline.stage_of(conn, problem["id"], principal.expert_id)
    return {
        "expert_id": principal.expert_id,
        "expert_external_id": principal.expert_external_id,
        "stage": stage,
        "offered": _expert_offers(stage),
        "contacts": contacts.for_pair(
            conn=conn, principal=principal, problem=problem, expert_id=principal.expert_id
        ),
    }


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
    states = pipeline.stages(conn, [problem_id])
    experts = [
        {
            "id": m.id,
            "external_id": m.external_id,
            "label": m.title,
            "subtitle": " · ".join(
                x for x in (m.record.get("title"), m.record.get("organization")) if x
            ),
            "score": m.score,
            "level": m.level,
            "probability": m.components.get("probability"),
            "why": m.reasons,
            "stage": states.get((problem_id, m.id), "recommended"),
        }
        for m in found
    ]
    achievements = [
        {
            "id": m.id,
            "external_id": m.external_id,
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
    form: dict[str, Any],
) -> None:
    """Record one action on the (problem, expert) match; the feedback service checks the rest."""
    values = {k: form[k] for k in DETAILS if form.get(k) not in (None, "")}
    try:
        data = FeedbackCreate(problem_id=problem_id, expert_id=expert_id, action=action, **values)
    except ValidationError as error:
        item = error.errors()[0]
        field = str(item["loc"][0]) if item["loc"] else "form"
        raise InvalidInput(
            f"{field} 无效 / {field} is invalid: {item['msg']}",
            field=field,
            key="error.invalid_value",
            params={"field": field, "reason": REASONS.get(item["type"], "valid.pattern")},
        ) from None
    feedback.create(conn=conn, principal=principal, data=data)


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
    # The route has refused any level outside LEVELS; "" means every level.
    lowest = next((known for known in LEVELS if known == level), None)
    found = platform.matcher.expert_problems(
        principal.expert_id,
        conn=conn,
        principal=principal,
        page=page,
        page_size=INBOX_PAGE,
        region=region or None,
        industry=industry or None,
        level=lowest,
    )
    states = pipeline.stages(conn, [m.id for m in found.items], principal.expert_id)
    items = []
    for m in found.items:
        stage = states.get((m.id, principal.expert_id), "recommended")
        items.append({"match": m, "stage": stage, "offered": _expert_offers(stage)})
    return items, found.has_more


def _expert_offers(stage: str) -> list[str]:
    return pipeline.offered(stage, {pipeline.EXPERT})


def invitations(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """Problems the expert was invited to, newest first, with the expert's latest answer."""
    if principal.expert_id is None:
        raise NotFound("你的账号未关联专家档案 / your account has no expert profile")
    invited = feedback.list(
        conn=conn, principal=principal, expert_id=principal.expert_id, action="invited"
    ).items
    ids = [f.problem_id for f in invited]
    states = pipeline.stages(conn, ids, principal.expert_id)
    out = []
    for f in invited:
        problem = problems.get(conn=conn, principal=principal, problem_id=f.problem_id)
        if problem is None:
            continue
        stage = states.get((problem.id, principal.expert_id), "recommended")
        out.append(
            {"problem": problem, "invitation": f, "stage": stage, "offered": _expert_offers(stage)}
        )
    return out
