"""Expert affinity from stored vectors: best works, the model blend, per-expert calibration."""

from __future__ import annotations

import numpy as np
import pytest

from greenplat.matcher import affinity as aff

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


@pytest.fixture
def blend(monkeypatch):
    def set_blend(weights: dict[str, float]) -> None:
        monkeypatch.setattr(aff, "BLEND", weights)

    return set_blend


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


def test_blend_averages_standardised_models_with_their_weights(blend) -> None:
    blend({"mpnet": 2.0, "minilm": 1.0})
    ev = expert({"mpnet": [unit(0)], "minilm": [unit(1)]})
    problem = {"mpnet": unit(0), "minilm": unit(0)}
    fit = aff.score_expert(problem, ["minilm", "mpnet"], ev)
    z_mpnet = aff.standardise("mpnet", float(unit(0) @ unit(0)))
    z_minilm = aff.standardise("minilm", float(unit(1) @ unit(0)))
    expected = 1 / (1 + np.exp(-((2 * z_mpnet + z_minilm) / 3 - 3)))
    assert fit.score == pytest.approx(expected)
    assert fit.model == "minilm+mpnet"
    assert fit.best_works[0][0] == 100  # explanations show the first model's best work


def test_model_outside_the_blend_is_used_alone_when_no_blend_model_is_there(blend) -> None:
    blend({"mpnet": 1.0, "minilm": 1.0})
    ev = expert({"e5-small": [unit(0)], "minilm": [unit(0)]})
    fit = aff.score_expert({"e5-small": unit(0)}, ["minilm", "e5-small"], ev)
    assert fit.model == "e5-small"
    assert fit.score == pytest.approx(1 / (1 + np.exp(-(aff.standardise("e5-small", 1.0) - 3))))


def test_blend_keeps_one_experts_scores_comparable_across_problems(blend) -> None:
    """Every problem of one language is scored by the same blend, so the expert's scores
    order the problems as the blended closeness does."""
    blend({"mpnet": 1.0, "minilm": 1.0})
    ev = expert({"mpnet": [unit(0), unit(1)], "minilm": [unit(0), unit(1)]})
    problems = [unit(0), unit(0, 2), unit(2), unit(3, 4)]
    fits = [aff.score_expert({"mpnet": p, "minilm": p}, ["minilm", "mpnet"], ev) for p in problems]
    assert {f.model for f in fits} == {"minilm+mpnet"}
    assert [f.score for f in fits] == sorted((f.score for f in fits), reverse=True)


def test_no_shared_model_means_no_affinity() -> None:
    ev = expert({"minilm": [unit(0)]})
    assert aff.score_expert({"e5-small": unit(0)}, ["e5-small"], ev) is None
