"""The match pipeline: each (problem, expert) pair has one stage, moved by one table.

推荐 → 已邀请 → 有意向 / 已婉拒 → 已联系 → 洽谈中 → 已成交. The stage of a pair is its latest
stage action (feedback stores each action once per pair). Who may take an action is a side:
the expert answers for itself; the enterprise side (the problem's owner, the sub-center of its
region, platform staff: whoever may match the problem) invites, contacts, negotiates, closes.
The API and the portal both ask this module which actions a viewer may take.
"""

from __future__ import annotations

from typing import Any

from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, allows, owns

EXPERT, ENTERPRISE = "expert", "enterprise"
STAGES = ("recommended", "invited", "interested", "declined", "contacted", "negotiating", "deal")
STAGE_NAMES = {
    "recommended": "推荐",
    "invited": "已邀请",
    "interested": "有意向",
    "declined": "已婉拒",
    "contacted": "已联系",
    "negotiating": "洽谈中",
    "deal": "已成交",
}
# action: (the side that may take it, the stages it may be taken from)
TRANSITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "invited": (ENTERPRISE, ("recommended",)),
    "interested": (EXPERT, ("recommended", "invited")),
    "declined": (EXPERT, ("recommended", "invited", "interested")),
    "contacted": (ENTERPRISE, ("interested",)),
    "negotiating": (ENTERPRISE, ("interested", "contacted")),
    "deal": (ENTERPRISE, ("interested", "contacted", "negotiating")),
}
# Actions that only note something and never move the stage; either side may take them.
NOTES = ("viewed",)
# Stages at which both sides have agreed to talk, so each may see the other's contact details.
CONSENTED = ("interested", "contacted", "negotiating", "deal")
OPEN_STATUSES = ("approved", "matched")


def sides(
    principal: Principal,
    problem: dict[str, Any],
    expert: dict[str, Any] | None = None,
    achievement: dict[str, Any] | None = None,
) -> set[str]:
    """The sides of a match the principal may speak for."""
    out = set()
    if allows(principal, "problem", "match", problem):
        out.add(ENTERPRISE)
    if (expert is not None and owns(principal, "expert", expert)) or (
        achievement is not None and owns(principal, "achievement", achievement)
    ):
        out.add(EXPERT)
    return out


def may_take(action: str, stage: str | None, held: set[str]) -> bool:
    """Whether a principal holding these sides may take the action from the stage."""
    if action in NOTES:
        return bool(held)
    side, sources = TRANSITIONS[action]
    return side in held and (stage is None or stage in sources)


def offered(stage: str, held: set[str]) -> list[str]:
    """The actions that make sense from this stage for the sides the viewer holds."""
    return [a for a in TRANSITIONS if may_take(a, stage, held)]


def stages(
    conn: Connection, problem_ids: list[int], expert_id: int | None = None
) -> dict[tuple[int, int], str]:
    """(problem, expert) -> current stage, for pairs that left 推荐."""
    rows = conn.execute(
        "SELECT DISTINCT ON (problem_id, expert_id) problem_id, expert_id, action"
        " FROM match_feedback WHERE problem_id = ANY(%s) AND expert_id IS NOT NULL"
        " AND (%s::bigint IS NULL OR expert_id = %s) AND action = ANY(%s)"
        " ORDER BY problem_id, expert_id, created_at DESC, id DESC",
        (problem_ids, expert_id, expert_id, list(TRANSITIONS)),
    ).fetchall()
    return {(r["problem_id"], r["expert_id"]): r["action"] for r in rows}


def stage_of(conn: Connection, problem_id: int, expert_id: int) -> str:
    """The current stage of one pair."""
    return stages(conn, [problem_id], expert_id).get((problem_id, expert_id), "recommended")


def lock_pair(conn: Connection, problem_id: int, expert_id: int | None, other: int | None):
    """Serialise actions on one pair until the transaction ends (parallel posts queue here)."""
    key = f"match:{problem_id}:{expert_id or ''}:{other or ''}"
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


def record_consent(conn: Connection, problem_id: int, expert_id: int, feedback_id: int):
    """The expert said 有意向: from now on both sides see each other's contact details."""
    conn.execute(
        "INSERT INTO contact_disclosures (problem_id, expert_id, feedback_id) VALUES (%s, %s, %s)"
        " ON CONFLICT (problem_id, expert_id) DO NOTHING",
        (problem_id, expert_id, feedback_id),
    )


def disclosed(conn: Connection, problem_id: int, expert_id: int) -> bool:
    """Whether the pair's contact details have been disclosed."""
    row = conn.execute(
        "SELECT 1 FROM contact_disclosures WHERE problem_id = %s AND expert_id = %s",
        (problem_id, expert_id),
    ).fetchone()
    return row is not None
