"""Who hears of a match's moves: the other side of the pair, the region's staff, top experts.

Called by the feedback service (for every action, from the API and the portal alike) and
after an approval commits (recommendations need the approved problem to be visible).
"""

from __future__ import annotations

import logging
from typing import Any

from greenplat.core import links
from greenplat.core.db import Connection, on_commit, one
from greenplat.core.notifications import service as notifications
from greenplat.core.permissions import SYSTEM
from greenplat.matcher.models import FeedbackCreate

log = logging.getLogger(__name__)


def after_feedback(
    conn: Connection,
    problem: dict[str, Any],
    expert: dict[str, Any] | None,
    data: FeedbackCreate,
) -> None:
    """Notify whoever acts next on the pair (and record consent to share contact details)."""
    if expert is None:
        return
    eid = expert["id"]
    if data.action == "invited":
        notifications.notify(
            conn,
            recipients=notifications.accounts_of_expert(conn, eid),
            kind="invitation",
            problem=problem,
            link=links.anchor("/expert/invitations", "p", problem["external_id"]),
        )
    elif data.action in ("interested", "declined"):
        notifications.notify(
            conn,
            recipients=notifications.owners_of(conn, problem),
            kind="answer",
            problem=problem,
            link=links.anchor(
                links.problem(problem["external_id"]), "pair-", expert["external_id"]
            ),
            variant=data.action,
            expert=expert["name"],
        )
    elif data.action == "deal":
        recipients = notifications.accounts_of_expert(conn, eid)
        recipients += notifications.reviewers_of(conn, problem)
        notifications.notify(
            conn,
            recipients=recipients,
            kind="deal",
            problem=problem,
            link=links.problem(problem["external_id"]),
        )


def recommend_after_commit(platform, conn: Connection, problem_id: int) -> None:
    """Once an approval commits, tell the top experts of the problem it is there."""

    def after() -> None:
        recommend(platform, problem_id)

    on_commit(conn, after)


def recommend(platform, problem_id: int) -> int:
    """Notify the accounts of the problem's top experts (the matcher's own ranking).

    Runs after the approval committed, as its own unit of work."""
    k = platform.settings.notify_top_experts
    if k == 0:
        return 0
    with platform.db.session() as conn:
        try:
            with conn.transaction():
                ranked = platform.matcher.problem_experts(
                    problem_id, conn=conn, principal=SYSTEM, page_size=k
                )
        except Exception:  # noqa: BLE001 - an approval stands even if no suggestion can be sent
            log.exception("recommendations for problem %s failed", problem_id)
            return 0
        problem = one(conn, "SELECT * FROM problems WHERE id = %s", (problem_id,))
        recipients = [u for m in ranked.items for u in notifications.accounts_of_expert(conn, m.id)]
        return notifications.notify(
            conn,
            recipients=recipients,
            kind="recommendation",
            problem=problem,
            link=links.anchor("/expert/inbox", "p", problem["external_id"]),
        )
