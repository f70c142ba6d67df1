"""A problem's pipeline as its enterprise side sees it: each expert once, newest move first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenplat.core.contacts import service as contacts
from greenplat.core.db import Connection
from greenplat.core.errors import NotFound
from greenplat.core.permissions import Principal, allows
from greenplat.matcher import feedback, pipeline
from greenplat.matcher.models import FeedbackRead, PipelineRow

if TYPE_CHECKING:
    from greenplat.matcher.service import Matcher


def _problem(conn: Connection, principal: Principal, problem_id: int) -> dict:
    row = conn.execute("SELECT * FROM problems WHERE id = %s", (problem_id,)).fetchone()
    if row is None or not allows(principal, "problem", "match", row):
        raise NotFound(f"需求 {problem_id} 不存在 / problem {problem_id} not found")
    return row


def board(
    matcher: Matcher, *, conn: Connection, principal: Principal, problem_id: int
) -> list[PipelineRow]:
    """Each expert with a move on the problem: fit level, stage, folded history, next actions,
    contacts. Only these experts are scored, not the library."""
    problem = _problem(conn, principal, problem_id)
    page = feedback.list(conn=conn, principal=principal, problem_id=problem_id, page_size=100)
    history: dict[int, list[FeedbackRead]] = {}
    for f in reversed(page.items):
        if f.expert_id is not None and f.action not in pipeline.NOTES:
            history.setdefault(f.expert_id, []).append(f)
    experts = {
        r["id"]: r
        for r in conn.execute("SELECT * FROM experts WHERE id = ANY(%s)", (list(history),))
    }
    stages = pipeline.stages(conn, [problem_id])
    levels = matcher.expert_levels(conn, problem, list(experts.values()))
    rows = []
    for expert_id, items in history.items():
        stage = stages.get((problem_id, expert_id), "recommended")
        held = pipeline.sides(principal, problem, experts[expert_id])
        rows.append(
            PipelineRow(
                expert_id=expert_id,
                expert_external_id=experts[expert_id]["external_id"],
                expert_name=experts[expert_id]["name"],
                level=levels[expert_id],
                stage=stage,
                history=items,
                proposal=next((f for f in items if f.action == "interested"), None),
                offered=pipeline.offered(stage, held),
                contacts=contacts.for_pair(
                    conn=conn, principal=principal, problem=problem, expert_id=expert_id
                ),
            )
        )
    return sorted(rows, key=lambda r: r.history[-1].created_at, reverse=True)
