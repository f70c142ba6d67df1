"""Event assignment: optimal under capacity and conflicts, checked against brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from greenplat.core.permissions import SYSTEM
from greenplat.matcher.assignment import assign


def brute_force(fits, problems, experts, k, capacity):
    """Best total over every way to give each problem up to k distinct experts."""
    options = {
        p: [
            combo
            for size in range(k + 1)
            for combo in itertools.combinations([e for e in experts if (p, e) in fits], size)
        ]
        for p in problems
    }
    best = (-1, -1.0)
    for choice in itertools.product(*(options[p] for p in problems)):
        load = {e: 0 for e in experts}
        for combo in choice:
            for e in combo:
                load[e] += 1
        if any(capacity[e] is not None and load[e] > capacity[e] for e in experts):
            continue
        pairs = sum(len(c) for c in choice)
        total = sum(fits[(p, e)] for p, combo in zip(problems, choice, strict=True) for e in combo)
        best = max(best, (pairs, round(total, 6)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_assignment_is_optimal_against_brute_force(seed):
    rng = random.Random(seed)
    problems, experts = ["p1", "p2", "p3"], ["e1", "e2", "e3", "e4"]
    fits = {
        (p, e): round(rng.random(), 3)
        for p in problems
        for e in experts
        if rng.random() > 0.2  # some pairs are forbidden (conflict, declined)
    }
    capacity = {e: rng.choice([None, 1, 2]) for e in experts}
    result = assign(fits, problems, experts, k=2, capacity=capacity)
    pairs = sum(len(chosen) for chosen in result.experts.values())
    assert (pairs, round(result.total, 6)) == brute_force(fits, problems, experts, 2, capacity)
    for problem, chosen in result.experts.items():
        names = [e for e, _ in chosen]
        assert len(names) == len(set(names)) <= 2
        assert all((problem, e) in fits for e in names)
    for expert in experts:
        used = sum(expert in [e for e, _ in chosen] for chosen in result.experts.values())
        assert capacity[expert] is None or used <= capacity[expert]


def test_greedy_choice_is_not_what_the_solver_returns():
    # Greedy gives e1 to p1 (0.9) and leaves p2 with e2 (0.1): total 1.0. Optimal: 0.8 + 0.85.
    fits = {("p1", "e1"): 0.9, ("p1", "e2"): 0.8, ("p2", "e1"): 0.85, ("p2", "e2"): 0.1}
    result = assign(fits, ["p1", "p2"], ["e1", "e2"], k=1, capacity={"e1": 1, "e2": 1})
    assert result.experts == {"p1": [("e2", 0.8)], "p2": [("e1", 0.85)]}
    assert result.total == pytest.approx(1.65)


def test_unfilled_slots_are_reported():
    fits = {("p1", "e1"): 0.5}
    result = assign(fits, ["p1", "p2"], ["e1"], k=2, capacity={"e1": None})
    assert result.unfilled == {"p1": 1, "p2": 2}


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        assign({}, ["p1"], ["e1"], k=0, capacity={})


def test_event_assignment_respects_conflict_capacity_and_records_invitations(mconn, matcher, world):
    problems = [world.problems[n] for n in ("battery", "other", "water")]
    experts = [world.experts[n] for n in ("battery", "insider", "busy", "water")]
    result = matcher.assign(problems, experts, k=2, record=True, conn=mconn, principal=SYSTEM)
    chosen = {p.problem_id: [e.expert_id for e in p.experts] for p in result.problems}
    assert world.experts["insider"] not in chosen[world.problems["battery"]]  # same organization
    assert sum(world.experts["busy"] in ids for ids in chosen.values()) <= 1  # capacity 1
    assert world.experts["water"] in chosen[world.problems["water"]]
    invited = mconn.execute(
        "SELECT count(*) AS n FROM match_feedback WHERE action = 'invited'"
    ).fetchone()["n"]
    assert invited == sum(len(ids) for ids in chosen.values())
