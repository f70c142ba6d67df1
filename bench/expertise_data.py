"""The ten English expertise sets in memory, and their texts embedded once per model.

Embeddings are cached under var/ by (model, kind, sha256 of the text), so trying a variant
costs numpy time, not model time. Texts are built exactly as the index builds them
(greenplat.matcher.retrieval: title, keywords, abstract joined by new lines).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.evaldata import read
from greenplat.matcher import retrieval
from greenplat.matcher.evaluation import Rating


@dataclass
class ExpertiseSet:
    """One dev set: each expert's paper ids and the rated (expert, problem) pairs."""

    name: str
    works: dict[str, list[str]]
    ratings: list[Rating]


@dataclass
class Corpus:
    """Every paper and problem of the sets (shared between sets), and the sets."""

    papers: dict[str, dict]
    problems: dict[str, dict]
    sets: list[ExpertiseSet] = field(default_factory=list)

    def paper_text(self, paper_id: str) -> str:
        return retrieval.achievement_text(self.papers[paper_id])

    def problem_text(self, problem_id: str) -> str:
        return retrieval.problem_text(self.problems[problem_id])


def load_corpus(data: Path) -> Corpus:
    """The ten expertise-dev-d_20_* sets of the shared data folder."""
    folders = sorted(data.glob("expertise-dev-d_20_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))
    if not folders:
        raise SystemExit(f"no expertise-dev-d_20_* sets under {data} (pass --data)")
    corpus = Corpus(papers={}, problems={})
    for folder in folders:
        works: dict[str, list[str]] = {}
        for paper in read(folder / "achievements.jsonl"):
            corpus.papers.setdefault(paper["external_id"], paper)
            for expert in paper.get("expert_ids") or []:
                works.setdefault(expert, []).append(paper["external_id"])
        for problem in read(folder / "problems.jsonl"):
            corpus.problems.setdefault(problem["external_id"], problem)
        ratings = [
            Rating(r["expert_id"], r["problem_id"], float(r["expertise"]))
            for r in read(folder / "ratings.jsonl")
        ]
        corpus.sets.append(ExpertiseSet(folder.name.removeprefix("expertise-dev-"), works, ratings))
    return corpus


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
PASSAGE_WORDS = 70
SAVE_EVERY = 64


def split(paper: dict) -> list[str]:
    """A paper as passages: its title followed by consecutive sentences of the abstract,
    about PASSAGE_WORDS words each (the whole paper when the abstract is short)."""
    sentences = _SENTENCE_END.split((paper.get("abstract") or "").strip())
    chunks, current = [], []
    for sentence in sentences:
        if current and len(" ".join([*current, sentence]).split()) > PASSAGE_WORDS:
            chunks.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        chunks.append(" ".join(current))
    return [f"{paper['title']}\n{chunk}" for chunk in chunks if chunk]


class VectorCache:
    """Vectors of texts per (model, kind), embedded once and kept in an .npz per model."""

    def __init__(self, folder: Path, models) -> None:
        self.folder = folder
        self.models = models  # greenplat.indexer.embedding.ModelSet
        self.stats: dict[str, tuple[int, float]] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def vectors(self, model: str, kind: str, texts: list[str]) -> np.ndarray:
        path = self.folder / f"{model}-{kind}.npz"
        known = dict(np.load(path)) if path.exists() else {}
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in known}
        todo = list(missing.items())
        for start in range(0, len(todo), SAVE_EVERY):
            chunk = dict(todo[start : start + SAVE_EVERY])
            started = time.perf_counter()
            fresh = self.models.raw_encode(list(chunk.values()), model=model, kind=kind)
            count, seconds = self.stats.get(model, (0, 0.0))
            self.stats[model] = (count + len(chunk), seconds + time.perf_counter() - started)
            known.update(zip(chunk, fresh, strict=True))
            np.savez(path, **known)  # progress survives an interrupted run
        return np.stack([known[k] for k in keys])


@dataclass
class Embedded:
    """One model's vectors of the corpus: papers (whole and by passage) and problems."""

    papers: dict[str, np.ndarray]
    passages: dict[str, np.ndarray]  # paper id -> (passages, dim)
    problems: dict[str, np.ndarray]


def embed_corpus(
    corpus: Corpus, cache: VectorCache, model: str, problem_kind: str, *, passages: bool = True
) -> Embedded:
    paper_ids = sorted(corpus.papers)
    problem_ids = sorted(corpus.problems)
    paper_vecs = cache.vectors(model, "passage", [corpus.paper_text(p) for p in paper_ids])
    problem_vecs = cache.vectors(model, problem_kind, [corpus.problem_text(p) for p in problem_ids])
    if not passages:
        return Embedded(
            papers=dict(zip(paper_ids, paper_vecs, strict=True)),
            passages={},
            problems=dict(zip(problem_ids, problem_vecs, strict=True)),
        )
    pieces = {p: split(corpus.papers[p]) for p in paper_ids}
    flat = [text for p in paper_ids for text in pieces[p]]
    flat_vecs = cache.vectors(model, "passage", flat)
    by_paper, start = {}, 0
    for p in paper_ids:
        by_paper[p] = flat_vecs[start : start + len(pieces[p])]
        start += len(pieces[p])
    return Embedded(
        papers=dict(zip(paper_ids, paper_vecs, strict=True)),
        passages=by_paper,
        problems=dict(zip(problem_ids, problem_vecs, strict=True)),
    )
