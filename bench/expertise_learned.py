"""A learned blend of affinity signals, cross-validated like every other variant.

Each rated (expert, problem) pair is described by a few aggregates of several signals (the
mean of the best 3 papers, the best paper, ...). A pairwise logistic regression learns one
weight per feature from the training experts' ordered pairs (each pair weighted by its
rating difference, the loss's own cost), and the held-out experts are scored by the learned
weights. Both cross-validation schemes of bench.expertise are used.

    python -m bench.expertise_learned --data ../shared/data     # after bench.expertise cached
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.expertise import EXPERT_FOLDS, Features, coverage, pair_costs
from bench.expertise_data import Corpus
from greenplat.matcher.evaluation import Rating

# features of one (problem, expert's papers): returns one value per name
FeatureFn = Callable[[Features, int, list[int]], list[float]]


@dataclass
class Rows:
    """Per (set, expert): the rated problems and their feature vectors."""

    experts: list[str]
    ratings: dict[tuple[int, int], list[Rating]]
    x: dict[tuple[int, int], np.ndarray]


def collect(corpus: Corpus, feats: Features, fn: FeatureFn) -> Rows:
    experts = sorted({r.expert_id for s in corpus.sets for r in s.ratings})
    ratings, x = {}, {}
    for s, dev in enumerate(corpus.sets):
        for e, expert in enumerate(experts):
            rated = [r for r in dev.ratings if r.expert_id == expert]
            papers = [feats.paper_index[p] for p in dev.works[expert]]
            ratings[s, e] = rated
            x[s, e] = np.array(
                [fn(feats, feats.problem_index[r.problem_id], papers) for r in rated]
            )
    return Rows(experts, ratings, x)


def fit(rows: Rows, keys: Sequence[tuple[int, int]], c: float) -> np.ndarray:
    """Weights of a pairwise logistic regression on the ordered pairs of these (set, expert)."""
    diffs, weights = [], []
    for key in keys:
        rated, x = rows.ratings[key], rows.x[key]
        for i in range(len(rated)):
            for j in range(len(rated)):
                gap = rated[i].expertise - rated[j].expertise
                if gap > 0:
                    diffs += [x[i] - x[j], x[j] - x[i]]
                    weights += [gap, gap]
    d = np.array(diffs)
    scale = d.std(axis=0) + 1e-9
    y = np.tile([1, 0], len(d) // 2)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000)
    model.fit(d / scale, y, sample_weight=np.array(weights))
    return model.coef_[0] / scale


def cost(rows: Rows, key: tuple[int, int], w: np.ndarray) -> tuple[float, float]:
    rated = rows.ratings[key]
    scores = dict(zip((r.problem_id for r in rated), rows.x[key] @ w, strict=True))
    return pair_costs(rated, scores)


def leave_experts_out(rows: Rows, n_sets: int, c: float) -> tuple[float, list[np.ndarray]]:
    n = len(rows.experts)
    cost_s, total_s, chosen = np.zeros(n_sets), np.zeros(n_sets), []
    for fold in range(EXPERT_FOLDS):
        held = set(range(fold, n, EXPERT_FOLDS))
        train = [(s, e) for s in range(n_sets) for e in range(n) if e not in held]
        w = fit(rows, train, c)
        chosen.append(w)
        for s in range(n_sets):
            for e in held:
                a, b = cost(rows, (s, e), w)
                cost_s[s] += a
                total_s[s] += b
    return float((cost_s / total_s).mean()), chosen


def leave_one_set_out(rows: Rows, n_sets: int, c: float) -> float:
    n = len(rows.experts)
    held_losses = []
    for s in range(n_sets):
        w = fit(rows, [(t, e) for t in range(n_sets) if t != s for e in range(n)], c)
        pairs = [cost(rows, (s, e), w) for e in range(n)]
        held_losses.append(sum(p[0] for p in pairs) / sum(p[1] for p in pairs))
    return float(np.mean(held_losses))


def fixed(rows: Rows, n_sets: int, w: np.ndarray) -> float:
    """Mean loss over the sets with given weights (no fitting)."""
    losses = []
    for s in range(n_sets):
        pairs = [cost(rows, (s, e), w) for e in range(len(rows.experts))]
        losses.append(sum(p[0] for p in pairs) / sum(p[1] for p in pairs))
    return float(np.mean(losses))


def signal_features(feats: Features, prob: int, papers: list[int]) -> dict[str, float]:
    """Every aggregate the learned blend may use, by name."""
    out = {}
    for name, matrix in feats.sims.items():
        sims = np.sort(matrix[prob, papers])
        out[f"{name} best 3"] = float(sims[-3:].mean())
        out[f"{name} best 1"] = float(sims[-1])
        out[f"{name} mean"] = float(sims.mean())
    for name, matrix in feats.passage_sims.items():
        out[f"{name} passages best 3"] = float(np.sort(matrix[prob, papers])[-3:].mean())
    for kind, (held, asked) in feats.terms.items():
        out[f"coverage of {kind}"] = coverage(held[papers].any(axis=0), asked[prob])
    return out


FEATURE_SETS = {
    "minilm best 3 / best 1 / mean": ["minilm best 3", "minilm best 1", "minilm mean"],
    "minilm best 3 + coverage of words": ["minilm best 3", "coverage of words"],
    "minilm best 3 + coverage of phrases": ["minilm best 3", "coverage of phrases"],
    "minilm best 3 + tfidf best 3": ["minilm best 3", "tfidf best 3"],
    "minilm best 3 + e5-small best 3": ["minilm best 3", "e5-small best 3"],
    "minilm best 3 + passages best 3": ["minilm best 3", "minilm passages best 3"],
    "minilm + e5-small + tfidf + coverage (best 3)": [
        "minilm best 3",
        "e5-small best 3",
        "tfidf best 3",
        "coverage of words",
    ],
    "every aggregate of every signal": [],
}


def main() -> None:
    import argparse
    from pathlib import Path

    from bench.expertise import build_features
    from bench.expertise_data import VectorCache, load_corpus
    from greenplat.core.settings import Settings
    from greenplat.indexer.embedding import ModelSet

    parser = argparse.ArgumentParser(prog="python -m bench.expertise_learned", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path("var/expertise-vectors"))
    parser.add_argument("--models", default="minilm,e5-small")
    parser.add_argument("--c", type=float, default=0.1, help="inverse L2 strength")
    args = parser.parse_args()
    models = args.models.split(",")
    corpus = load_corpus(args.data)
    cache = VectorCache(args.cache, ModelSet(Settings(models=",".join(models))))
    feats = build_features(corpus, cache, models, ["minilm"])
    names = list(signal_features(feats, 0, [0, 1, 2]))
    every = collect(
        corpus, feats, lambda f, prob, papers: list(signal_features(f, prob, papers).values())
    )
    n_sets = len(corpus.sets)
    print("| learned blend of | leave-one-set-out | leave-experts-out |")
    print("|---|---|---|")
    for label, wanted in FEATURE_SETS.items():
        columns = (
            [names.index(n) for n in wanted if n in names] if wanted else list(range(len(names)))
        )
        if wanted and len(columns) < len(wanted):
            continue
        rows = Rows(every.experts, every.ratings, {k: v[:, columns] for k, v in every.x.items()})
        leo, _ = leave_experts_out(rows, n_sets, args.c)
        print(
            f"| {label} | {leave_one_set_out(rows, n_sets, args.c):.4f} | {leo:.4f} |", flush=True
        )


if __name__ == "__main__":
    main()
