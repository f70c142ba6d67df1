"""Expert affinity from stored vectors: best works, the model blend, per-expert calibration."""

from __future__ import annotations

import numpy as np
import pytest

from greenplat.matcher import affinity as aff
from greenplat.matcher import scoring

DIM = 16


def unit(*hot: int, noise: int = 0) -> np.ndarray:
    """A unit vector pointing at the given axes (with a small seeded tilt)."""
    v = np.zeros(DIM, dtype=np.float32)
    v[list(hot)] = 1.0
    v += np.random.default_rng(noise).normal(0, 0.05, DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def expert(papers_by_model: dict[str, list[np.ndarray]]) -> aff.ExpertEvidence:
    ev = aff.ExpertEvidence({"id": 1, "external_id": "E1"})
    for model, papers in papers_by_model.items():
        ids = list(range(100, 100 + len(papers)))
        ev.work_vectors[model] = (ids, np.stack(papers))
    return ev


def test_expert_whose_paper_matches_scores_higher_than_one_whose_papers_do_not() -> None:
    problem = {"minilm": unit(0)}
    near = expert({"minilm": [unit(0, noise=1), unit(5), unit(6)]})
    far = expert({"minilm": [unit(3), unit(5), unit(6)]})
    assert (
        aff.score_expert(problem, ["minilm"], near).score
        > aff.score_expert(problem, ["minilm"], far).score
    )


def test_one_experts_scores_order_problems_by_closeness_and_stay_in_unit_interval() -> None:
    ev = expert({"minilm": [unit(0), unit(0, 1), unit(0, 1, 2)]})
    problems = [unit(0), unit(0, 4), unit(0, 4, 5, 6), unit(7, 8)]
    scores = [aff.score_expert({"minilm": p}, ["minilm"], ev).score for p in problems]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s < 1 for s in scores)


def test_first_model_both_sides_have_decides_and_is_named() -> None:
    ev = expert({"mpnet": [unit(1)], "minilm": [unit(0)]})
    problem = {"mpnet": unit(0), "minilm": unit(0)}
    assert aff.score_expert(problem, ["minilm", "mpnet"], ev).model == "minilm"
    fit = aff.score_expert(problem, ["mpnet", "minilm"], ev)  # mpnet listed first in settings
    assert fit.model == "mpnet"
    assert fit.score == pytest.approx(aff.calibrate("mpnet", float(unit(1) @ unit(0))))
    assert aff.score_expert({"minilm": unit(0)}, ["mpnet", "minilm"], ev).model == "minilm"


def test_calibration_puts_models_on_one_scale() -> None:
    """A typical unrelated pair scores low and a close pair high under every model, though
    e5's cosines sit near 0.8 and MiniLM's and mpnet's near 0.15 for unrelated texts."""
    for model, unrelated, close in [("e5-small", 0.83, 0.95), ("minilm", 0.15, 0.8)]:
        assert aff.calibrate(model, unrelated) < 0.1 < 0.9 < aff.calibrate(model, close)
    assert aff.calibrate("mpnet", 0.4) == aff.calibrate("minilm", 0.4)


def test_no_shared_model_means_no_affinity() -> None:
    ev = expert({"minilm": [unit(0)]})
    assert aff.score_expert({"e5-small": unit(0)}, ["e5-small"], ev) is None


@pytest.mark.parametrize("size", [1, 2, 3, 5, scoring.SMALL, scoring.SMALL + 1, 200])
def test_top_works_are_the_largest_first_ties_in_order_and_their_mean(size):
    rng = np.random.default_rng(size)
    sims = rng.choice(np.linspace(0.7, 0.9, 7), size).astype(np.float32)  # many ties
    order, mean = scoring.top_works(sims)
    expected = np.argsort(-sims, kind="stable")[: scoring.TOP_WORKS].tolist()
    assert order == expected
    assert mean == pytest.approx(scoring.top_mean(sims), abs=1e-6)
