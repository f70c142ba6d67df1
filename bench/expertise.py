"""Expert affinity variants on the ten English dev sets, with cross-validated parameters.

    python -m bench.expertise --data ../shared/data            # every variant (offline)
    python -m bench.expertise --data ../shared/data --real var/eval/db-expertise

Offline: every paper and problem is embedded once per model (cached under var/), each
variant scores the rated pairs in numpy, and the loss of Stelmakh et al. is printed per
variant beside the plain MiniLM mean-of-top-3 baseline of the same run. A variant with free
parameters is cross-validated two ways, never tuned on what it is measured on:
  - leave one set out: parameters chosen on nine sets, loss measured on the tenth;
  - leave experts out: the 26 experts (shared by all ten sets) in 5 groups; parameters
    chosen on the other groups' ratings over the ten sets, loss measured on the held-out
    experts. The sets share experts and ratings, so this is the honest one.
--real scores the same rated pairs through `greenplat eval --ratings` (the product path).
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import expertise_real
from bench.expertise_data import Corpus, VectorCache, embed_corpus, load_corpus
from bench.expertise_lexical import lexical_similarities, term_matrices
from greenplat.matcher import affinity, scoring
from greenplat.matcher.evaluation import Rating

EXPERT_FOLDS = 5


@dataclass
class Features:
    """Similarity matrices problems x papers, keyed by signal name."""

    problem_index: dict[str, int]
    paper_index: dict[str, int]
    sims: dict[str, np.ndarray]
    passage_sims: dict[str, np.ndarray]  # best passage of each paper
    background: dict[str, np.ndarray]  # per problem: mean of its 10 best papers in the library
    paper_vecs: dict[str, np.ndarray]  # model -> papers x dim
    problem_vecs: dict[str, np.ndarray]
    years: np.ndarray
    # words / phrases -> (papers x terms: the paper holds the term, problems x terms: the
    # problem's terms weighted by library IDF)
    terms: dict[str, tuple[np.ndarray, np.ndarray]]


Scorer = Callable[[Features, int, list[int], dict], float]


def build_features(
    corpus: Corpus,
    cache: VectorCache,
    models: Sequence[str],
    passage_models: Sequence[str],
    title_models: Sequence[str] = (),
) -> Features:
    problems, papers = sorted(corpus.problems), sorted(corpus.papers)
    sims, passage_sims, background, paper_vecs, problem_vecs = {}, {}, {}, {}, {}
    for model in models:
        kind = "query" if model == "e5-small" else "passage"
        emb = embed_corpus(corpus, cache, model, kind, passages=model in passage_models)
        prob = np.stack([emb.problems[p] for p in problems])
        paper_vecs[model] = np.stack([emb.papers[p] for p in papers])
        problem_vecs[model] = prob
        sims[model] = prob @ paper_vecs[model].T
        if emb.passages:
            passage_sims[model] = np.stack(
                [(emb.passages[p] @ prob.T).max(axis=0) for p in papers], axis=1
            )
    for model in title_models:  # title against title, the problem's text as the product embeds it
        kind = "query" if model == "e5-small" else "passage"
        paper_titles = cache.vectors(model, "passage", [corpus.papers[p]["title"] for p in papers])
        problem_titles = cache.vectors(model, kind, [corpus.problems[p]["title"] for p in problems])
        sims[f"{model}-title"] = problem_titles @ paper_titles.T
    sims["tfidf"], sims["bm25"] = lexical_similarities(corpus, problems, papers)
    terms = {
        "words": term_matrices(corpus, problems, papers),
        "phrases": term_matrices(corpus, problems, papers, longest=2),
    }
    for name, matrix in sims.items():
        background[name] = np.sort(matrix, axis=1)[:, -10:].mean(axis=1)
    return Features(
        {p: i for i, p in enumerate(problems)},
        {p: i for i, p in enumerate(papers)},
        sims,
        passage_sims,
        background,
        paper_vecs,
        problem_vecs,
        np.array([corpus.papers[p].get("year") or 2015 for p in papers], dtype=float),
        terms,
    )


def pair_costs(rated: list[Rating], scores: dict) -> tuple[float, float]:
    """(cost, total) of one expert's rated problems under the loss of Stelmakh et al."""
    cost = total = 0.0
    for i, first in enumerate(rated):
        for second in rated[i + 1 :]:
            difference = abs(first.expertise - second.expertise)
            total += difference
            a, b = scores[first.problem_id], scores[second.problem_id]
            if a == b:
                cost += difference / 2
            elif (a > b) != (first.expertise > second.expertise) and difference:
                cost += difference
    return cost, total


class Table:
    """cost and total per (set, expert) for each grid point of one variant, computed once."""

    def __init__(self, corpus: Corpus, feats: Features, scorer: Scorer, space: dict) -> None:
        self.experts = sorted({r.expert_id for s in corpus.sets for r in s.ratings})
        self.points = grid(space)
        shape = (len(self.points), len(corpus.sets), len(self.experts))
        self.cost, self.total = np.zeros(shape), np.zeros(shape)
        for g, params in enumerate(self.points):
            for s, dev in enumerate(corpus.sets):
                for e, expert in enumerate(self.experts):
                    rated = [r for r in dev.ratings if r.expert_id == expert]
                    papers = [feats.paper_index[p] for p in dev.works[expert]]
                    scores = {
                        r.problem_id: scorer(
                            feats, feats.problem_index[r.problem_id], papers, params
                        )
                        for r in rated
                    }
                    self.cost[g, s, e], self.total[g, s, e] = pair_costs(rated, scores)

    def loss(self, g: int, sets, experts) -> float:
        """Mean over sets of the loss restricted to these experts, at grid point g."""
        cost = self.cost[g][np.ix_(sets, experts)].sum(axis=1)
        return float((cost / self.total[g][np.ix_(sets, experts)].sum(axis=1)).mean())

    def best(self, sets, experts) -> int:
        return min(range(len(self.points)), key=lambda g: self.loss(g, sets, experts))

    def leave_one_set_out(self) -> float:
        every = list(range(len(self.experts)))
        sets = range(self.cost.shape[1])
        held = [self.loss(self.best([t for t in sets if t != s], every), [s], every) for s in sets]
        return float(np.mean(held))

    def leave_experts_out(self) -> tuple[float, list[dict]]:
        n = len(self.experts)
        sets = list(range(self.cost.shape[1]))
        cost, total, chosen = np.zeros(len(sets)), np.zeros(len(sets)), []
        for fold in range(EXPERT_FOLDS):
            held = list(range(fold, n, EXPERT_FOLDS))
            g = self.best(sets, [e for e in range(n) if e not in held])
            chosen.append(self.points[g])
            cost += self.cost[g][:, held].sum(axis=1)
            total += self.total[g][:, held].sum(axis=1)
        return float((cost / total).mean()), chosen


def grid(space: dict[str, Sequence]) -> list[dict]:
    keys = list(space)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*space.values())]


# --- variants ----------------------------------------------------------------------------


def aggregate(sims: np.ndarray, p: dict) -> float:
    """Mean of the top k (or of the top share kshare), or a softmax-weighted mean with
    temperature t (t=0: top-k mean)."""
    if p.get("t"):
        w = np.exp((sims - sims.max()) / p["t"])
        return float((w * sims).sum() / w.sum())
    if p.get("kshare"):  # the best share of the expert's works, at least one
        return scoring.top_mean(sims, max(1, round(p["kshare"] * len(sims))))
    return scoring.top_mean(sims, p.get("k", 3))


def paper_sims(feats: Features, prob: int, papers: list[int], p: dict) -> np.ndarray:
    """Per paper: a weighted sum of standardised signals, less the problem's background."""
    total = np.zeros(len(papers))
    for name, weight in p["w"].items():
        if not weight:
            continue
        whole = feats.sims[name][prob, papers]
        if p.get("passage") and name in feats.passage_sims:
            whole = (whole + feats.passage_sims[name][prob, papers]) / 2
        scale = _scale(feats, name)
        centred = whole - p.get("bg", 0.0) * feats.background[name][prob]
        if p.get("pz"):  # each paper against how it scores with every problem
            column = feats.sims[name][:, papers]
            centred = (
                p["pz"] * (whole - column.mean(axis=0)) / column.std(axis=0) * scale
                + (1 - p["pz"]) * centred
            )
        total += weight * centred / scale
    if p.get("central"):
        model = next(iter(p["w"]))
        vecs = feats.paper_vecs[model][papers]
        inner = vecs @ vecs.T
        centrality = (inner.sum(axis=1) - 1) / max(len(papers) - 1, 1)
        total += p["central"] * centrality / feats.sims[model].std()
    if p.get("recent"):
        total += p["recent"] * (feats.years[papers] - 2022) / 5
    return total


def coverage(held: np.ndarray, asked: np.ndarray) -> float:
    """IDF-weighted share of the problem's terms that the expert's papers hold."""
    return float(asked @ held / asked.sum())


def _scale(feats: Features, name: str) -> float:
    """The product's standard deviation of unrelated cosines for a model, else the data's."""
    known = affinity.CALIBRATION.get(name)
    return known[1] if known else float(feats.sims[name].std())


def combined(feats: Features, prob: int, papers: list[int], p: dict) -> float:
    if p.get("late"):  # aggregate each model's similarities, then weigh the aggregates
        return sum(
            weight * aggregate(paper_sims(feats, prob, papers, {**p, "w": {name: 1}}), p)
            for name, weight in p["w"].items()
            if weight
        )
    score = aggregate(paper_sims(feats, prob, papers, p), p)
    if p.get("centroid"):
        model = next(iter(p["w"]))
        centre = feats.paper_vecs[model][papers].mean(axis=0)
        centre_sim = float(feats.problem_vecs[model][prob] @ centre) / np.linalg.norm(centre)
        score = (1 - p["centroid"]) * score + p["centroid"] * centre_sim / feats.sims[model].std()
    if p.get("share"):  # how much of the expert's work is near the problem, not only the best
        model = next(iter(p["w"]))
        score += p["share"] * float((feats.sims[model][prob, papers] > p["above"]).mean())
    if p.get("cover"):  # IDF-weighted share of the problem's terms any of the papers holds
        held, asked = feats.terms[p.get("terms", "words")]
        score += p["cover"] * coverage(held[papers].any(axis=0), asked[prob])
    return score


def variants(models: Sequence[str]) -> list[tuple[str, Scorer, dict]]:
    """(name, scorer, parameter grid); a grid of single points has no free parameter."""
    w = [0.0, 0.25, 0.5, 1.0]
    out = [(f"{m}, mean of best 3", combined, {"w": [{m: 1}]}) for m in [*models, "tfidf", "bm25"]]
    out += [
        ("minilm, best k (k by CV)", combined, {"w": [{"minilm": 1}], "k": [1, 2, 3, 4, 5, 6]}),
        (
            "minilm, softmax mean (T by CV)",
            combined,
            {"w": [{"minilm": 1}], "t": [0.25, 0.5, 1.0, 2.0, 4.0]},
        ),
        (
            "minilm, mean of the best share of works (share by CV)",
            combined,
            {"w": [{"minilm": 1}], "kshare": [0.1, 0.15, 0.2, 0.25, 0.3]},
        ),
        ("minilm, best 3, passages", combined, {"w": [{"minilm": 1}], "passage": [True]}),
        (
            "minilm, best 3, less problem background (x by CV)",
            combined,
            {"w": [{"minilm": 1}], "bg": [-3.0, -2.0, -1.0, -0.5, 0.5, 1.0]},
        ),
        (
            "minilm, best 3 + centroid (share by CV)",
            combined,
            {"w": [{"minilm": 1}], "centroid": [0.1, 0.2, 0.3, 0.5]},
        ),
        (
            "minilm, best 3, papers weighted by centrality (by CV)",
            combined,
            {"w": [{"minilm": 1}], "central": [0.25, 0.5, 1.0, 2.0]},
        ),
        (
            "minilm, best 3, recency (by CV)",
            combined,
            {"w": [{"minilm": 1}], "recent": [-0.2, 0.1, 0.2, 0.5]},
        ),
        (
            "minilm, best 3, papers standardised over problems (share by CV)",
            combined,
            {"w": [{"minilm": 1}], "pz": [0.25, 0.5, 1.0]},
        ),
        ("minilm + tfidf (w by CV)", combined, {"w": [{"minilm": 1, "tfidf": x} for x in w]}),
        (
            "minilm, best 3 + share of papers above a cosine (share, cosine by CV)",
            combined,
            {"w": [{"minilm": 1}], "share": [0.25, 0.5, 1.0, 2.0], "above": [0.3, 0.4, 0.5]},
        ),
        (
            "minilm, best 3 + coverage of the problem's terms by all papers (w by CV)",
            combined,
            {"w": [{"minilm": 1}], "cover": [0.5, 1.0, 2.0, 4.0]},
        ),
        (
            "minilm, best 3 + coverage of the problem's key phrases (1-2 words) (w by CV)",
            combined,
            {"w": [{"minilm": 1}], "cover": [0.1, 0.25, 0.5, 1.0, 2.0], "terms": ["phrases"]},
        ),
    ]
    if "minilm-title" in models:
        out += [
            (
                "minilm + minilm titles (w by CV)",
                combined,
                {"w": [{"minilm": 1, "minilm-title": x} for x in w]},
            ),
        ]
    if "e5-small" in models:
        w5 = [0.0, 0.1, 0.25, 0.5, 1.0]
        out += [
            ("minilm + e5-small, equal weights", combined, {"w": [{"minilm": 1, "e5-small": 1}]}),
            (
                "minilm + e5-small (w by CV)",
                combined,
                {"w": [{"minilm": 1, "e5-small": x} for x in w5]},
            ),
            (
                "minilm + e5-small, aggregated per model (w by CV)",
                combined,
                {"w": [{"minilm": 1, "e5-small": x} for x in w5], "late": [True]},
            ),
            (
                "minilm + e5-small + tfidf (w by CV)",
                combined,
                {"w": [{"minilm": 1, "e5-small": a, "tfidf": b} for a in w5 for b in w]},
            ),
        ]
    if "mpnet" in models:
        w2 = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
        out += [
            ("mpnet, best k (k by CV)", combined, {"w": [{"mpnet": 1}], "k": [2, 3, 4, 5]}),
            ("mpnet + minilm, equal weights", combined, {"w": [{"mpnet": 1, "minilm": 1}]}),
            ("mpnet + minilm (w by CV)", combined, {"w": [{"mpnet": 1, "minilm": x} for x in w2]}),
            (
                "mpnet + minilm, aggregated per model (w by CV)",
                combined,
                {"w": [{"mpnet": 1, "minilm": x} for x in w2], "late": [True]},
            ),
            ("mpnet + tfidf (w by CV)", combined, {"w": [{"mpnet": 1, "tfidf": x} for x in w]}),
            (
                "mpnet + minilm + tfidf (w by CV)",
                combined,
                {"w": [{"mpnet": 1, "minilm": a, "tfidf": b} for a in w for b in w]},
            ),
            (
                "mpnet + minilm, best k (w, k by CV)",
                combined,
                {"w": [{"mpnet": 1, "minilm": x} for x in w2], "k": [2, 3, 4]},
            ),
            (
                "mpnet + minilm, + centroid (share by CV)",
                combined,
                {"w": [{"mpnet": 1, "minilm": 1}], "centroid": [0.0, 0.1, 0.2, 0.3]},
            ),
        ]
    return out


def report(corpus, feats, chosen: list[tuple[str, Scorer, dict]]) -> None:
    base = Table(corpus, feats, combined, {"w": [{"minilm": 1}]})
    every = list(range(len(base.experts)))
    baseline = base.loss(0, list(range(len(corpus.sets))), every)
    print("| variant | leave-one-set-out | leave-experts-out | baseline (same run) | params |")
    print("|---|---|---|---|---|")
    for name, scorer, space in chosen:
        started = time.perf_counter()
        table = Table(corpus, feats, scorer, space)
        loso = table.leave_one_set_out()
        leo, params = table.leave_experts_out()
        shown = "; ".join(sorted({_short(p, space) for p in params}))
        print(
            f"| {name} | {loso:.4f} | {leo:.4f} | {baseline:.4f} | {shown} |"
            f" <!-- {time.perf_counter() - started:.0f}s -->",
            flush=True,
        )


def _short(params: dict, space: dict) -> str:
    free = {k: v for k, v in params.items() if len(space[k]) > 1}
    return ", ".join(f"{k}={v}" for k, v in free.items()) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.expertise", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path("var/expertise-vectors"))
    parser.add_argument("--models", default="minilm,e5-small,mpnet")
    parser.add_argument("--passage-models", default="minilm,mpnet")
    parser.add_argument("--title-models", default="minilm")
    parser.add_argument("--only", default="", help="run the variants whose name contains this")
    parser.add_argument(
        "--real", type=Path, help="data dir of the product path (imported on first use)"
    )
    args = parser.parse_args()
    if args.real:
        expertise_real.run(args.real, args.cache)
        return
    import torch

    from greenplat.core.settings import Settings
    from greenplat.indexer.embedding import ModelSet

    torch.set_num_threads(2)
    models = [m for m in args.models.split(",") if m]
    corpus = load_corpus(args.data)
    cache = VectorCache(args.cache, ModelSet(Settings(models=",".join(models))))
    titles = [m for m in args.title_models.split(",") if m]
    feats = build_features(corpus, cache, models, args.passage_models.split(","), titles)
    # settings.models order: the primary e5 first
    order = sorted(models, key=lambda m: m != "e5-small")
    print(
        f"product score_expert, models {order} (settings order):",
        f"{expertise_real.product_scores(corpus, feats, order):.4f}",
    )
    signals = [*models, *(f"{m}-title" for m in titles)]
    report(corpus, feats, [v for v in variants(signals) if args.only in v[0]])


if __name__ == "__main__":
    main()
