"""Evaluation measures: ranking quality for labelled queries, expertise loss for ratings."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RankingReport:
    """Mean ranking measures over a set of labelled queries."""

    queries: int
    mrr_at_10: float
    recall_at_1: float
    recall_at_10: float
    ndcg_at_10: float

    def rows(self) -> list[tuple[str, str]]:
        """(measure, value) pairs ready to print."""
        return [
            ("queries", str(self.queries)),
            ("MRR@10", f"{self.mrr_at_10:.4f}"),
            ("Recall@1", f"{self.recall_at_1:.4f}"),
            ("Recall@10", f"{self.recall_at_10:.4f}"),
            ("nDCG@10", f"{self.ndcg_at_10:.4f}"),
        ]


def _recall(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def _reciprocal_rank(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    for position, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            return 1.0 / position
    return 0.0


def _ndcg(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    gain = sum(
        1.0 / math.log2(position + 1)
        for position, item in enumerate(ranked[:k], start=1)
        if item in relevant
    )
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(k, len(relevant)) + 1))
    return gain / ideal


def ranking_report(
    runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Iterable[str]]
) -> RankingReport:
    """MRR@10, Recall@1, Recall@10 and nDCG@10 of ranked ids per query against relevant ids.

    A labelled query missing from runs counts as a miss; queries without relevant ids are skipped.
    """
    totals: defaultdict[str, float] = defaultdict(float)
    counted = 0
    for query_id, relevant_ids in qrels.items():
        relevant = set(relevant_ids)
        if not relevant:
            continue
        ranked = list(runs.get(query_id, ()))
        counted += 1
        totals["mrr"] += _reciprocal_rank(ranked, relevant, 10)
        totals["r1"] += _recall(ranked, relevant, 1)
        totals["r10"] += _recall(ranked, relevant, 10)
        totals["ndcg"] += _ndcg(ranked, relevant, 10)
    n = max(counted, 1)
    return RankingReport(
        queries=counted,
        mrr_at_10=totals["mrr"] / n,
        recall_at_1=totals["r1"] / n,
        recall_at_10=totals["r10"] / n,
        ndcg_at_10=totals["ndcg"] / n,
    )


@dataclass(frozen=True)
class Rating:
    """An expert's self-rated expertise for one problem."""

    expert_id: str
    problem_id: str
    expertise: float


def expertise_loss(ratings: Iterable[Rating], scores: Mapping[tuple[str, str], float]) -> float:
    """Loss of Stelmakh et al.: weighted share of each expert's rated pairs ordered wrongly.

    Over every pair of problems one expert rated differently, a pair the scores order against
    the ratings costs the rating difference and a tie costs half of it; the sum is divided by
    the sum of all rating differences (0 is perfect, 0.5 is chance).
    """
    by_expert: dict[str, list[Rating]] = defaultdict(list)
    for rating in ratings:
        by_expert[rating.expert_id].append(rating)
    cost = total = 0.0
    for expert_id, rated in by_expert.items():
        for i, first in enumerate(rated):
            for second in rated[i + 1 :]:
                difference = abs(first.expertise - second.expertise)
                if difference == 0:
                    continue
                total += difference
                a = scores[(expert_id, first.problem_id)]
                b = scores[(expert_id, second.problem_id)]
                if a == b:
                    cost += difference / 2
                elif (a > b) != (first.expertise > second.expertise):
                    cost += difference
    return cost / total if total else 0.0
