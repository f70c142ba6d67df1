"""Follow-up for sub-centers: approved problems nobody answered, and a nudge to their experts."""

from __future__ import annotations

from typing import Any

from greenplat.core import links
from greenplat.core.db import Connection
from greenplat.core.errors import NotFound
from greenplat.core.notifications import service as notifications
from greenplat.core.permissions import Principal, problem_read_filter, require, require_any
from greenplat.matcher import pipeline


def waiting(
    *, conn: Connection, principal: Principal, days: int, limit: int = 200
) -> list[dict[str, Any]]:
    """Approved problems of the reviewer's reach without an expert's answer after `days` days,
    longest waiting first."""
    require_any(principal, "problem", "review")
    condition, params = problem_read_filter(principal)
    return conn.execute(
        "SELECT p.id, p.external_id, p.title, p.region, p.industry, p.approved_at,"
        " extract(epoch FROM now() - p.approved_at) / 86400.0 AS days_waiting,"
        " (SELECT count(*) FROM match_feedback f WHERE f.problem_id = p.id"
        "   AND f.action = 'invited') AS invited"
        f" FROM problems p WHERE {condition} AND p.status = 'approved'"
        " AND p.approved_at <= now() - make_interval(days => %s)"
        " AND NOT EXISTS (SELECT 1 FROM match_feedback f WHERE f.problem_id = p.id"
        "   AND f.action IN ('interested', 'declined'))"
        " ORDER BY p.approved_at, p.id LIMIT %s",
        [*params, days, limit],
    ).fetchall()


def nudge(matcher, conn: Connection, principal: Principal, problem_id: int, k: int) -> int:
    """Remind the problem's top experts and those invited; returns how many accounts heard."""
    problem = conn.execute("SELECT * FROM problems WHERE id = %s", (problem_id,)).fetchone()
    if problem is None:
        raise NotFound(f"需求 {problem_id} 不存在 / problem {problem_id} not found")
    require(principal, "problem", "review", problem)
    ranked = matcher.problem_experts(problem_id, conn=conn, principal=principal, page_size=k).items
    invited = [
        e for (p, e), stage in pipeline.stages(conn, [problem_id]).items() if stage == "invited"
    ]
    experts = dict.fromkeys([m.id for m in ranked] + invited)
    recipients = [u for e in experts for u in notifications.accounts_of_expert(conn, e)]
    return notifications.notify(
        conn,
        recipients=recipients,
        kind="recommendation",
        problem=problem,
        link=links.anchor("/expert/inbox", "p", problem["external_id"]),
        variant="nudge",
    )
