"""Event assignment (对接会) on platform records: fits, rules, solver, optional invitations."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from greenplat.core.db import Connection
from greenplat.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from greenplat.core.permissions import Principal, allows
from greenplat.matcher import assignment, feedback, rules
from greenplat.matcher.models import (
    AssignedExpert,
    AssignedProblem,
    AssignResult,
    FeedbackCreate,
)

# Without a list of experts, each problem brings its best few candidates to the table.
CANDIDATES_PER_PROBLEM = 30


_NAMES = {"problems": "需求", "experts": "专家"}


def _load(
    conn: Connection,
    library: str,
    ids: Sequence[int],
    visible: Callable[[dict], bool] = lambda row: True,
) -> list[dict]:
    """The rows in the order asked; NotFound names every id missing or not visible, alike,
    so the answer never tells which ids exist."""
    rows = conn.execute(f"SELECT * FROM {library} WHERE id = ANY(%s)", (list(ids),)).fetchall()
    found = {row["id"]: row for row in rows if visible(row)}
    missing = [i for i in ids if i not in found]
    if missing:
        field = "problem_ids" if library == "problems" else "expert_ids"
        listed = ", ".join(map(str, missing))
        raise NotFound(
            f"{_NAMES[library]}不存在：{listed} / {library} not found: {listed}", field=field
        )
    return [found[i] for i in dict.fromkeys(ids)]


def _invite(conn: Connection, principal: Principal, problem_id: int, expert_id: int):
    """Invite one assigned pair; a pair already past 推荐 keeps its stage."""
    data = FeedbackCreate(problem_id=problem_id, expert_id=expert_id, action="invited")
    try:
        with conn.transaction():
            feedback.create(conn=conn, principal=principal, data=data)
    except (Conflict, InvalidTransition):
        return


def assign_event(
    matcher,
    conn: Connection,
    *,
    principal: Principal,
    problem_ids: Sequence[int],
    expert_ids: Sequence[int] | None,
    k: int,
    record: bool = False,
) -> AssignResult:
    """Give each problem k experts maximising total fit under capacity and conflict rules."""
    problems = _load(
        conn, "problems", problem_ids, lambda row: allows(principal, "problem", "match", row)
    )
    for problem in problems:
        if not rules.is_matchable(problem):
            raise InvalidInput(
                f"需求 {problem['id']} 未通过审核 / problem {problem['id']} is not approved",
                field="problem_ids",
            )
    declined = rules.declined_experts(conn, [p["id"] for p in problems])
    fits: dict[tuple[int, int], float] = {}
    experts: dict[int, dict] = {}
    given = _load(conn, "experts", expert_ids) if expert_ids else None
    for problem in problems:
        if given is None:
            scored = matcher.rank_experts(conn, problem)[:CANDIDATES_PER_PROBLEM]
        else:
            allowed = [e for e in given if not rules.conflicted(problem, e)]
            scored = matcher.score_experts(conn, problem, allowed)
        for expert, _, comps, _ in scored:
            if (problem["id"], expert["id"]) not in declined:
                fits[(problem["id"], expert["id"])] = comps.score
                experts[expert["id"]] = expert
    engaged = rules.open_requests(conn, list(experts))
    capacity = {
        eid: rules.remaining_capacity(e.get("capacity"), engaged.get(eid, set()))
        for eid, e in experts.items()
    }
    solved = assignment.assign(
        fits, [p["id"] for p in problems], list(experts), k=k, capacity=capacity
    )
    if record:
        for problem_id, chosen in solved.experts.items():
            for expert_id, _ in chosen:
                _invite(conn, principal, problem_id, expert_id)
    return AssignResult(
        problems=[
            AssignedProblem(
                problem_id=p["id"],
                external_id=p["external_id"],
                title=p["title"],
                experts=[
                    AssignedExpert(
                        expert_id=eid,
                        external_id=experts[eid]["external_id"],
                        name=experts[eid]["name"],
                        score=round(score, 4),
                    )
                    for eid, score in solved.experts[p["id"]]
                ],
                unfilled=solved.unfilled.get(p["id"], 0),
            )
            for p in problems
        ],
        total_score=round(solved.total, 4),
        recorded=record,
    )
