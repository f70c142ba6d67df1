"""Evaluation measures: ranking quality and the expertise loss of Stelmakh et al."""

from __future__ import annotations

import pytest

from greenplat.matcher.evaluation import Rating, expertise_loss, ranking_report


def test_ranking_report_measures():
    runs = {"q1": ["a", "b"], "q2": ["x", "y", "c"], "q3": []}
    qrels = {"q1": ["a"], "q2": ["c"], "q3": ["z"]}
    report = ranking_report(runs, qrels)
    assert report.queries == 3
    assert report.mrr_at_10 == pytest.approx((1 + 1 / 3) / 3)
    assert report.recall_at_1 == pytest.approx(1 / 3)
    assert report.recall_at_10 == pytest.approx(2 / 3)
    assert report.ndcg_at_10 == pytest.approx((1 + 0.5) / 3)


def test_expertise_loss_perfect_inverted_and_ties():
    ratings = [Rating("e", "p1", 5), Rating("e", "p2", 3), Rating("e", "p3", 1)]
    right = {("e", "p1"): 0.9, ("e", "p2"): 0.5, ("e", "p3"): 0.1}
    wrong = {key: -value for key, value in right.items()}
    tied = {key: 0.5 for key in right}
    assert expertise_loss(ratings, right) == 0
    assert expertise_loss(ratings, wrong) == 1
    assert expertise_loss(ratings, tied) == 0.5


def test_expertise_loss_weights_by_rating_difference():
    ratings = [Rating("e", "p1", 5), Rating("e", "p2", 4), Rating("e", "p3", 1)]
    # Only p1/p2 (difference 1) is ordered wrongly; differences sum to 1 + 4 + 3 = 8.
    scores = {("e", "p1"): 0.5, ("e", "p2"): 0.6, ("e", "p3"): 0.1}
    assert expertise_loss(ratings, scores) == pytest.approx(1 / 8)
