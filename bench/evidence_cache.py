"""What an in-memory evidence store would save problem -> top 20 experts (a what-if, not built).

    python -m bench.match_latency --sizes 100000 --keep DIR   # builds DIR once
    python -m bench.evidence_cache --keep DIR [--blocks 12] [--block 20]

affinity.load_evidence reads, for every search, the works of ~400 candidate experts and the
cosines of ~800 works and ~400 profiles with the query (two statements, about a fifth of a
search). This bench preloads every published work and every stored vector of the kept
library into memory, serves load_evidence from there (one matrix product), and times the
whole search both ways in alternated blocks of the same process on the same queries; then it
counts the pages that differ (float32 in numpy against pgvector's sums: near-ties may swap).
It prices the design only: a real store needs invalidation when a work, its authors, its
status or its vector changes, and memory per worker (printed).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from psycopg.rows import tuple_row

from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings
from greenplat.indexer.service import Indexer
from greenplat.matcher import affinity
from greenplat.matcher.service import Matcher

from .common import bench_database, percentile
from .latency import Corpus
from .match_latency import MODEL, measure


class Preloaded:
    """Every published work by author, and every stored vector of both libraries."""

    def __init__(self, indexer: Indexer, conn) -> None:
        self.works: dict[str, list[affinity.Work]] = defaultdict(list)
        with conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(
                "SELECT id, title, discipline, year, expert_ids FROM achievements"
                " WHERE status = 'published' ORDER BY id"
            )
            for work_id, title, discipline, year, authors in rows:
                work = affinity.Work(work_id, title, discipline, year)
                for author in authors:
                    self.works[author].append(work)
        self.vectors = {
            library: self._matrix(indexer, conn, library) for library in ("achievements", "experts")
        }

    @staticmethod
    def _matrix(indexer: Indexer, conn, library: str) -> tuple[dict[int, int], np.ndarray]:
        ids = sorted(indexer.backend.vector_ids(conn, library, MODEL))
        stored = indexer.get_vectors(library, ids, conn=conn, model=MODEL)
        return {i: n for n, i in enumerate(ids)}, np.stack([stored[i] for i in ids])

    def megabytes(self) -> float:
        return sum(m.nbytes for _, m in self.vectors.values()) / 2**20

    def cosines(self, library: str, ids: list[int], query: np.ndarray) -> dict[int, float]:
        rows, matrix = self.vectors[library]
        kept = [i for i in ids if i in rows]
        return dict(zip(kept, (matrix[[rows[i] for i in kept]] @ query).tolist(), strict=True))

    def load_evidence(self, indexer, conn, experts, models, *, query=None, also=None):
        """affinity.load_evidence for one query vector, from memory."""
        if query is None or also or len(query) != 1:
            return ORIGINAL(indexer, conn, experts, models, query=query, also=also)
        ((model, vector),) = query.items()
        evidence = {
            row["id"]: affinity.ExpertEvidence(row, self.works.get(row["external_id"], []))
            for row in experts
        }
        work_ids = sorted({w.id for ev in evidence.values() for w in ev.works})
        works = self.cosines("achievements", work_ids, vector)
        profiled = [row["id"] for row in experts if affinity.has_profile(row)]
        profiles = self.cosines("experts", profiled, vector)
        for expert_id, ev in evidence.items():
            ids = [w.id for w in ev.works if w.id in works]
            if ids:
                ev.work_sims[model] = (ids, np.array([works[i] for i in ids], dtype=np.float32))
            if expert_id in profiles:
                ev.profile_sims[model] = profiles[expert_id]
        return evidence


ORIGINAL = affinity.load_evidence


def run(keep: Path, blocks: int, block: int, warm: int) -> None:
    """Print both ways' p50 / p95 and how many pages differ."""
    corpus = Corpus(seed=29)
    models_dir = Settings().models_dir
    with bench_database(keep, models=f"zh:{MODEL}", models_dir=models_dir) as (settings, db):
        indexer = Indexer(settings, db)
        matcher = Matcher(indexer)
        try:
            with db.session() as conn:
                start = time.perf_counter()
                store = Preloaded(indexer, conn)
                print(
                    f"preloaded {sum(len(m) for m, _ in store.vectors.values()):,} vectors"
                    f" ({store.megabytes():.0f} MB) in {time.perf_counter() - start:.1f} s"
                )
                matcher.warm(conn)
                measure(matcher, conn, corpus, warm)
                texts = ["".join(corpus.words(12)) for _ in range(blocks * block)]
                timings: dict[str, list[float]] = {"as built": [], "evidence in memory": []}
                ways = {"as built": ORIGINAL, "evidence in memory": store.load_evidence}
                for n in range(blocks):
                    order = list(ways) if n % 2 == 0 else list(reversed(ways))
                    for way in order:
                        affinity.load_evidence = ways[way]
                        for text in texts[n * block : (n + 1) * block]:
                            begin = time.perf_counter()
                            _page(matcher, conn, text)
                            timings[way].append((time.perf_counter() - begin) * 1000)
                differ = 0
                for text in texts[:30]:
                    pages = []
                    for way in ways.values():
                        affinity.load_evidence = way
                        pages.append(_page(matcher, conn, text))
                    differ += pages[0] != pages[1]
        finally:
            affinity.load_evidence = ORIGINAL
            indexer.close()
    for way, ms in timings.items():
        print(f"  {way:20} p50 {percentile(ms, 50):6.1f} ms   p95 {percentile(ms, 95):6.1f} ms")
    print(f"  pages differing: {differ} of 30")


def _page(matcher: Matcher, conn, text: str) -> list[int]:
    page = matcher.search(text, "experts", conn=conn, principal=SYSTEM, page_size=20, bar=False)
    return [item.id for item in page.items]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence_cache", description=__doc__)
    parser.add_argument("--keep", type=Path, required=True, help="a bench.match_latency database")
    parser.add_argument("--blocks", type=int, default=12, help="alternated blocks")
    parser.add_argument("--block", type=int, default=20, help="searches per block")
    parser.add_argument("--warm", type=int, default=150, help="searches first, not timed")
    args = parser.parse_args()
    run(args.keep, args.blocks, args.block, args.warm)


if __name__ == "__main__":
    main()
