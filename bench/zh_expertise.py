"""A Chinese expertise check built at run time from the CSL papers (never committed).

    python -m bench.zh_expertise --data ../shared/data --out var/eval/zh-expertise

No Chinese ratings exist, so this is a proxy: for every discipline with at least 18 papers,
two experts known only by six papers each, four held-out papers of the discipline as
problems (title, abstract as description), and for every expert three problems of its own
discipline rated 5 and seven of other disciplines rated 1. The expertise loss then says how
often the affinity orders an expert's own field below another (0 perfect, 0.5 chance).
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

from bench.evaldata import read, write

MIN_PAPERS, WORKS, HELD_OUT, OWN, OTHER = 18, 6, 4, 3, 7


def build(papers: list[dict], seed: int = 7) -> dict[str, list[dict]]:
    """Experts, achievements, problems and ratings of the proxy set."""
    rng = random.Random(seed)
    by_discipline: dict[str, list[dict]] = defaultdict(list)
    for paper in papers:
        by_discipline[paper["discipline"]].append(paper)
    disciplines = sorted(d for d, ps in by_discipline.items() if len(ps) >= MIN_PAPERS)
    out: dict[str, list[dict]] = defaultdict(list)
    problems_of: dict[str, list[str]] = {}
    for number, discipline in enumerate(disciplines):
        papers_of = by_discipline[discipline][:]
        rng.shuffle(papers_of)
        for e in range(2):
            expert_id = f"zx-{number}-{e}"
            out["experts"].append({"external_id": expert_id, "name": f"专家 {number}-{e}"})
            for paper in papers_of[e * WORKS : (e + 1) * WORKS]:
                out["achievements"].append(_achievement(paper, expert_id))
        held_out = papers_of[2 * WORKS : 2 * WORKS + HELD_OUT]
        out["problems"] += [_problem(paper) for paper in held_out]
        problems_of[discipline] = [f"zp-{paper['id']}" for paper in held_out]
    for expert in out["experts"]:
        own = disciplines[int(expert["external_id"].split("-")[1])]
        others = [p for d in disciplines if d != own for p in problems_of[d]]
        rated = [(p, 5.0) for p in rng.sample(problems_of[own], OWN)]
        rated += [(p, 1.0) for p in rng.sample(others, OTHER)]
        out["ratings"] += [
            {"expert_id": expert["external_id"], "problem_id": p, "expertise": r} for p, r in rated
        ]
    return out


def _achievement(paper: dict, expert_id: str) -> dict:
    return {
        "external_id": f"{expert_id}-{paper['id']}",
        "title": paper["title"],
        "abstract": paper["abstract"],
        "keywords": paper["keywords"],
        "discipline": paper["discipline"],
        "kind": "paper",
        "expert_ids": [expert_id],
    }


def _problem(paper: dict) -> dict:
    return {
        "external_id": f"zp-{paper['id']}",
        "title": paper["title"],
        "description": paper["abstract"],
        "keywords": paper["keywords"],
        "status": "approved",
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.zh_expertise", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the import files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = build(list(read(args.data / "csl-dev-papers.jsonl")))
    for name, items in rows.items():
        print(f"{name}: {write(args.out / f'{name}.jsonl', items)}")


if __name__ == "__main__":
    main()
