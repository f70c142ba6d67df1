"""Turn the shared evaluation files into import files at run time (never committed).

    python -m bench.evaldata --data ../shared/data --out var/eval

writes, under --out:
  csl-keywords/achievements.jsonl   problem -> achievement: papers as achievements
  csl-titles/achievements.jsonl     title -> abstract: each paper titled by its keywords
  expertise/{experts,achievements,problems}.jsonl and ratings-d_20_N.jsonl
      the ten expertise sets in one platform: expert ids are prefixed by their set
      ("d_20_3/rev-1"), so each set keeps its own works while the shared papers and
      problems are imported (and embedded) once. An expert's affinity depends only on
      their works and the problem, so each ratings file scores exactly as alone.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path


def read(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def write(path: Path, rows: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def csl_keywords(paper: dict) -> dict:
    """A paper as an achievement: title, abstract, keywords, discipline."""
    return {
        "external_id": paper["id"],
        "title": paper["title"],
        "abstract": paper["abstract"],
        "keywords": paper.get("keywords") or [],
        "discipline": paper.get("discipline"),
        "kind": "paper",
    }


def csl_titles(paper: dict) -> dict:
    """A paper whose title is replaced by its keywords: the real title appears nowhere."""
    return {
        "external_id": paper["id"],
        "title": " ".join(paper.get("keywords") or []) or paper["id"],
        "abstract": paper["abstract"],
        "discipline": paper.get("discipline"),
        "kind": "paper",
    }


def expertise(sets: list[Path], out: Path) -> dict[str, int]:
    """One import of every expertise set, expert ids prefixed by set."""
    experts, achievements, problems = [], {}, {}
    for folder in sets:
        tag = folder.name.removeprefix("expertise-dev-")
        for expert in read(folder / "experts.jsonl"):
            experts.append({**expert, "external_id": f"{tag}/{expert['external_id']}"})
        for work in read(folder / "achievements.jsonl"):
            merged = achievements.setdefault(work["external_id"], {**work, "expert_ids": []})
            merged["expert_ids"] += [f"{tag}/{e}" for e in work.get("expert_ids") or []]
        for problem in read(folder / "problems.jsonl"):
            problems[problem["external_id"]] = problem
        ratings = [
            {**r, "expert_id": f"{tag}/{r['expert_id']}"} for r in read(folder / "ratings.jsonl")
        ]
        write(out / f"ratings-{tag}.jsonl", ratings)
    return {
        "experts": write(out / "experts.jsonl", experts),
        "achievements": write(out / "achievements.jsonl", achievements.values()),
        "problems": write(out / "problems.jsonl", problems.values()),
    }


def convert(data: Path, out: Path) -> None:
    papers = list(read(data / "csl-dev-papers.jsonl"))
    print("csl-keywords", write(out / "csl-keywords/achievements.jsonl", map(csl_keywords, papers)))
    print("csl-titles", write(out / "csl-titles/achievements.jsonl", map(csl_titles, papers)))
    sets = sorted(data.glob("expertise-dev-d_20_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))
    print("expertise", expertise(sets, out / "expertise"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("var/eval"))
    args = parser.parse_args()
    convert(args.data, args.out)


if __name__ == "__main__":
    main()
