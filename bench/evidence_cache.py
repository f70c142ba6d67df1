"""Evidence kept in memory (greenplat.indexer.evidence) against reading it every time.

    python -m bench.match_latency --sizes 100000 --keep DIR   # builds DIR once
    python -m bench.evidence_cache --keep DIR [--blocks 9] [--block 20]

Problem -> top 20 experts three ways, in alternated blocks of one process on fresh queries:
the works and vectors of the candidates kept in memory (as a served process keeps them after
Matcher.warm), read from the database every time (GREENPLAT_EVIDENCE_CACHE_VECTORS=0), and
from an empty memory every time (the worst case after a bulk change: every vector is loaded
and kept anew). Then the pages of 30 queries, memory against database.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings
from greenplat.indexer.evidence import EvidenceCache
from greenplat.indexer.service import Indexer
from greenplat.matcher.service import Matcher

from .common import bench_database, percentile
from .latency import Corpus
from .match_latency import MODEL, measure

WAYS = ("in memory", "from the database", "from an empty memory")


def run(keep: Path, blocks: int, block: int, warm: int) -> None:
    """Print p50 / p95 of each way and how many pages differ."""
    corpus = Corpus(seed=31)
    models_dir = Settings().models_dir
    with bench_database(keep, models=f"zh:{MODEL}", models_dir=models_dir) as (settings, db):
        indexer = Indexer(settings, db)
        matcher = Matcher(indexer)
        kept = indexer.evidence
        assert kept is not None, "GREENPLAT_EVIDENCE_CACHE_VECTORS is 0"
        timings: dict[str, list[float]] = {way: [] for way in WAYS}
        try:
            with db.session() as conn:
                start = time.perf_counter()
                matcher.warm(conn)
                print(f"warmed in {time.perf_counter() - start:.1f} s")
                measure(matcher, conn, corpus, warm)
                for n in range(blocks):
                    for way in WAYS if n % 2 == 0 else tuple(reversed(WAYS)):
                        for _ in range(block):
                            text = "".join(corpus.words(12))
                            _use(indexer, kept, way)
                            begin = time.perf_counter()
                            _page(matcher, conn, text)
                            timings[way].append((time.perf_counter() - begin) * 1000)
                        _use(indexer, kept, "in memory")
                differ = 0
                for _ in range(30):
                    text = "".join(corpus.words(12))
                    pages = []
                    for way in WAYS[:2]:
                        _use(indexer, kept, way)
                        pages.append(_page(matcher, conn, text))
                    differ += pages[0] != pages[1]
        finally:
            indexer.close()
    for way, ms in timings.items():
        print(f"  {way:22} p50 {percentile(ms, 50):6.1f} ms   p95 {percentile(ms, 95):6.1f} ms")
    print(f"  pages differing, memory against database: {differ} of 30")


def _use(indexer: Indexer, kept: EvidenceCache, way: str) -> None:
    indexer.evidence = None if way == "from the database" else kept
    if way == "from an empty memory":
        indexer.evidence = EvidenceCache(kept.max_vectors)


def _page(matcher: Matcher, conn, text: str) -> list[int]:
    page = matcher.search(text, "experts", conn=conn, principal=SYSTEM, page_size=20, bar=False)
    return [item.id for item in page.items]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence_cache", description=__doc__)
    parser.add_argument("--keep", type=Path, required=True, help="a bench.match_latency database")
    parser.add_argument("--blocks", type=int, default=9, help="alternated blocks")
    parser.add_argument("--block", type=int, default=20, help="searches per block of a way")
    parser.add_argument("--warm", type=int, default=100, help="searches first, not timed")
    args = parser.parse_args()
    run(args.keep, args.blocks, args.block, args.warm)


if __name__ == "__main__":
    main()
