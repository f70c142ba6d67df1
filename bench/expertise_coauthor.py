"""A learned view of the works: a linear map under which an expert's own papers lie close.

    python -m bench.expertise_coauthor --data ../shared/data     # after bench.expertise cached

No rating is used to learn it, only which papers share an expert (what the platform knows of
every expert it indexes): the map I + AB (rank r) is trained with a contrastive loss over the
training experts' papers, with an L2 pull towards the identity, and the held-out experts are
then scored by the mean of their best 3 MiniLM similarities in the mapped space (leave
experts out, the folds of bench.expertise).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.expertise import EXPERT_FOLDS, build_features, pair_costs
from bench.expertise_data import Corpus, VectorCache, load_corpus
from greenplat.core.settings import Settings
from greenplat.indexer.embedding import ModelSet

EPOCHS, TEMPERATURE = 200, 0.05


def learn_map(papers: np.ndarray, groups: list[list[int]], rank: int, pull: float) -> np.ndarray:
    """I + AB trained so each paper's nearest papers are those of its own experts."""
    import torch

    rows = sorted({i for g in groups for i in g})
    where = {i: k for k, i in enumerate(rows)}
    same = torch.zeros(len(rows), len(rows))
    for group in groups:
        for a in group:
            for b in group:
                if a != b:
                    same[where[a], where[b]] = 1
    has = same.sum(dim=1) > 0
    x = torch.tensor(papers[rows], dtype=torch.float32)
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(x.shape[1], rank) * 0.01)
    b = torch.nn.Parameter(torch.randn(rank, x.shape[1]) * 0.01)
    optimiser = torch.optim.Adam([a, b], lr=1e-2)
    for _ in range(EPOCHS):
        y = x + x @ a @ b
        y = y / y.norm(dim=1, keepdim=True)
        logits = y @ y.T / TEMPERATURE - 1e9 * torch.eye(len(rows))
        log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        loss = (-(log_p * same).sum(dim=1)[has] / same.sum(dim=1)[has]).mean()
        loss = loss + pull * ((a @ b) ** 2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return (torch.eye(x.shape[1]) + a @ b).detach().numpy()


def mapped(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    y = x @ m
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def costs(corpus: Corpus, feats, sims: np.ndarray, experts: list[str]) -> np.ndarray:
    """(cost, total) per set over these experts, mean of the best 3 similarities."""
    out = np.zeros((len(corpus.sets), 2))
    for s, dev in enumerate(corpus.sets):
        for expert in experts:
            rated = [r for r in dev.ratings if r.expert_id == expert]
            papers = [feats.paper_index[p] for p in dev.works[expert]]
            scores = {
                r.problem_id: float(
                    np.sort(sims[feats.problem_index[r.problem_id], papers])[-3:].mean()
                )
                for r in rated
            }
            out[s] += pair_costs(rated, scores)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.expertise_coauthor", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path("var/expertise-vectors"))
    parser.add_argument("--grid", default="64:3,64:10,64:30,16:10", help="rank:pull,...")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    corpus = load_corpus(args.data)
    feats = build_features(
        corpus, VectorCache(args.cache, ModelSet(Settings(models="minilm"))), ["minilm"], []
    )
    papers, problems = feats.paper_vecs["minilm"], feats.problem_vecs["minilm"]
    experts = sorted({r.expert_id for s in corpus.sets for r in s.ratings})
    works: dict[str, set[int]] = {}
    for dev in corpus.sets:
        for expert, ids in dev.works.items():
            works.setdefault(expert, set()).update(feats.paper_index[p] for p in ids)
    base = costs(corpus, feats, problems @ papers.T, experts)
    print(f"MiniLM mean of best 3 (same run): {(base[:, 0] / base[:, 1]).mean():.4f}")
    for point in args.grid.split(","):
        rank, pull = int(point.split(":")[0]), float(point.split(":")[1])
        total = np.zeros((len(corpus.sets), 2))
        for fold in range(EXPERT_FOLDS):
            held = experts[fold::EXPERT_FOLDS]
            groups = [sorted(works[e]) for e in experts if e not in held]
            m = learn_map(papers, groups, rank, pull)
            total += costs(corpus, feats, mapped(problems, m) @ mapped(papers, m).T, held)
        loss = (total[:, 0] / total[:, 1]).mean()
        print(f"rank {rank}, pull {pull}: leave experts out {loss:.4f}", flush=True)


if __name__ == "__main__":
    main()
