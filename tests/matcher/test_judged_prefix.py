"""A page judges only the candidates it needs, and shows exactly what judging all would."""

from __future__ import annotations

import random

from greenplat.matcher.ranking import judged_prefix
from greenplat.matcher.relevance import LEVELS, at_least
from greenplat.matcher.scoring import Components


def _ranked(rng: random.Random, n: int) -> tuple[list[Components], dict[int, str | None]]:
    verdicts = {i: rng.choice([*LEVELS, None, None]) for i in range(n)}
    return [Components(relevance=1.0 - i / n) for i in range(n)], verdicts


def _one_case(rng: random.Random) -> None:
    n, want = rng.randrange(0, 120), rng.randrange(1, 40)
    bar, lowest = rng.random() < 0.7, rng.choice([None, *LEVELS])
    ranked, verdicts = _ranked(rng, n)
    position = {id(c): i for i, c in enumerate(ranked)}
    judged: list[int] = []

    def judge(chunk: list[Components]) -> None:
        for comps in chunk:
            judged.append(position[id(comps)])
            comps.level = verdicts[position[id(comps)]]  # type: ignore[assignment]

    page = judged_prefix(ranked, judge, lambda c: c, bar, want, lowest)
    everything = [
        c
        for i, c in enumerate(ranked)
        if (not bar or verdicts[i] is not None)
        and (lowest is None or at_least(verdicts[i], lowest))
    ]
    assert page == everything[:want]
    assert len(judged) == len(set(judged))  # nobody judged twice


def test_a_page_shows_what_judging_every_candidate_would_show():
    rng = random.Random(5)
    for _ in range(200):
        _one_case(rng)


def test_only_the_candidates_a_page_needs_are_judged():
    ranked = [Components(relevance=1.0 - i / 400) for i in range(400)]
    judged: list[Components] = []

    def judge(chunk: list[Components]) -> None:
        judged.extend(chunk)
        for comps in chunk:
            comps.level = "good"

    page = judged_prefix(ranked, judge, lambda c: c, True, 21)
    assert page == ranked[:21]
    assert len(judged) == 21
    assert all(c.level is None for c in ranked[21:])
