"""Matching rules: which problems may be matched, conflicts, capacity and declined pairs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, sees_full_problem

# A problem is matched once it passed review and until it closes (status matched means a
# match is under way, and its owner still reads its matches).
MATCHABLE_STATUSES = ("approved", "matched")
# Problem statuses a direction considers; None means every status (the offline commands act
# as a platform admin, who sees every record whatever its status).
Statuses = tuple[str, ...] | None
# Actions that make a (problem, expert) pair an open request on the expert's time.
ENGAGING_ACTIONS = ("invited", "interested", "contacted", "negotiating", "deal")


def is_matchable(problem: dict[str, Any]) -> bool:
    """Whether a problem may take part in matching."""
    return problem.get("status") in MATCHABLE_STATUSES


def _org(value: str | None) -> str:
    return "".join((value or "").split()).casefold()


def same_organization(source: dict[str, Any], candidate: dict[str, Any]) -> bool:
    """Whether two records belong to the same organization (the one rule for conflicts).

    Organizations are compared by their name field, spaces and case ignored; when they become
    records with ids, this is the one place to compare ids instead.
    """
    org = _org(source.get("organization"))
    return bool(org) and org == _org(candidate.get("organization"))


def conflicted(problem: dict[str, Any], expert: dict[str, Any]) -> bool:
    """Conflict of interest: the expert belongs to the problem's own organization."""
    return same_organization(problem, expert)


def own_work(problem: dict[str, Any], achievement: dict[str, Any]) -> bool:
    """An enterprise is not recommended its own organization's achievements."""
    return same_organization(problem, achievement)


def shown_in_inbox(principal: Principal, problem: dict[str, Any]) -> bool:
    """A confidential problem reaches an inbox in full, or with the summary its enterprise
    wrote for experts; never as a blank card."""
    return sees_full_problem(principal, problem) or bool(problem.get("public_summary"))


def declined_experts(conn: Connection, problem_ids: list[int]) -> set[tuple[int, int]]:
    """(problem id, expert id) pairs declined by either side: never recommended again."""
    rows = conn.execute(
        "SELECT DISTINCT problem_id, expert_id FROM match_feedback"
        " WHERE action = 'declined' AND expert_id IS NOT NULL AND problem_id = ANY(%s)",
        (problem_ids,),
    ).fetchall()
    return {(row["problem_id"], row["expert_id"]) for row in rows}


def declined_problems_of(conn: Connection, expert_id: int) -> set[int]:
    """Problems whose pairing with this expert was declined."""
    rows = conn.execute(
        "SELECT DISTINCT problem_id FROM match_feedback"
        " WHERE action = 'declined' AND expert_id = %s",
        (expert_id,),
    ).fetchall()
    return {row["problem_id"] for row in rows}


def declined_achievements(conn: Connection, problem_ids: list[int]) -> set[tuple[int, int]]:
    """(problem id, achievement id) pairs that were declined."""
    rows = conn.execute(
        "SELECT DISTINCT problem_id, achievement_id FROM match_feedback"
        " WHERE action = 'declined' AND achievement_id IS NOT NULL AND problem_id = ANY(%s)",
        (problem_ids,),
    ).fetchall()
    return {(row["problem_id"], row["achievement_id"]) for row in rows}


def open_requests(conn: Connection, expert_ids: list[int]) -> dict[int, set[int]]:
    """Expert id -> problems the expert is engaged on that have not closed nor been declined."""
    rows = conn.execute(
        "SELECT DISTINCT f.expert_id, f.problem_id FROM match_feedback f"
        " JOIN problems p ON p.id = f.problem_id"
        " WHERE f.expert_id = ANY(%s) AND f.action = ANY(%s) AND p.status = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM match_feedback d WHERE d.action = 'declined'"
        "   AND d.problem_id = f.problem_id AND d.expert_id = f.expert_id)",
        (expert_ids, list(ENGAGING_ACTIONS), list(MATCHABLE_STATUSES)),
    ).fetchall()
    out: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        out[row["expert_id"]].add(row["problem_id"])
    return out


def remaining_capacity(capacity: int | None, engaged: set[int]) -> int | None:
    """How many more open requests an expert takes; None when unlimited."""
    if capacity is None:
        return None
    return max(capacity - len(engaged), 0)


def at_capacity(expert: dict[str, Any], engaged: set[int], problem_id: int | None) -> bool:
    """An expert whose open requests fill their capacity is ranked out of new problems."""
    if problem_id is not None and problem_id in engaged:
        return False
    left = remaining_capacity(expert.get("capacity"), engaged)
    return left is not None and left <= 0
