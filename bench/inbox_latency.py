"""Inbox latency: one page of an expert's inbox at 10k and 100k approved problems.

    python -m bench.inbox_latency [--sizes 10000,100000] [--experts 50] [--warm 50]

Built like bench.match_latency: embedding 100k problems takes hours here, so the problems are
synthetic, terms drawn from the demo data's vocabulary and vectors placed around real
multilingual-e5-small embeddings of 300 topic texts. Each measured expert has a profile and
QUERY_WORKS works around one topic (the inbox searches with each of them). The whole inbox
path runs as the expert reads it (their own principal, default backend): candidates from the
index, readable problems, rules, affinity, the relevance judgement, the page's reasons.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from greenplat.core.permissions import Principal
from greenplat.core.settings import Settings
from greenplat.indexer import modelprep
from greenplat.indexer.analysis import tsvector_literal
from greenplat.indexer.pgbackend import model_slug
from greenplat.indexer.service import Indexer
from greenplat.matcher.inbox import QUERY_WORKS
from greenplat.matcher.service import Matcher

from .common import bench_database, summary_ms
from .latency import Corpus
from .match_latency import CHUNK, MODEL, REGIONS, TOPICS, Topics, _copy, _vector_text, vacuum

INDUSTRIES = ("新能源", "新材料", "生物医药", "智能制造", "电子信息")
EXPERT_BASE = 10_000_000


def _fill_problems(conn, topics: Topics, start: int, stop: int) -> None:
    corpus, ids = topics.corpus, range(start, stop)
    topic = corpus.rng.integers(0, TOPICS, stop - start)
    words = {i: corpus.words(40) for i in ids}
    rows = {
        i: (
            "".join(words[i][:6]),
            "".join(words[i][10:]),
            words[i][6:10],
            INDUSTRIES[i % 5],
            REGIONS[i % 5],
        )
        for i in ids
    }
    _copy(
        conn,
        "COPY problems (id, external_id, title, description, keywords, industry, region,"
        " status, approved_at) FROM STDIN",
        ((i, f"P-{i}", *rows[i], "approved", "2026-01-01") for i in ids),
    )
    docs = "COPY search_documents (library, record_id, external_id, title, lexemes, region,"
    docs += " industry, status, models, content_hash) FROM STDIN"
    _copy(
        conn,
        docs,
        (
            (
                "problems",
                i,
                f"P-{i}",
                rows[i][0],
                tsvector_literal(
                    [("A", words[i][:6]), ("B", words[i][6:10]), ("D", words[i][10:])]
                ),
                rows[i][4],
                rows[i][3],
                "approved",
                [MODEL],
                "-",
            )
            for i in ids
        ),
    )
    vectors = topics.vectors(topic)
    _copy(
        conn,
        f"COPY search_vectors_{model_slug(MODEL)}_problems (record_id, embedding) FROM STDIN",
        ((i, _vector_text(v)) for i, v in zip(ids, vectors, strict=True)),
    )


def _fill_experts(conn, topics: Topics, start: int, count: int) -> list[int]:
    """Experts start..count-1 (after EXPERT_BASE) with a profile and QUERY_WORKS works each,
    every expert around one topic."""
    corpus, ids = topics.corpus, list(range(EXPERT_BASE + start, EXPERT_BASE + count))
    topic = corpus.rng.integers(0, TOPICS, len(ids))
    words = {i: corpus.words(30) for i in ids}
    _copy(
        conn,
        "COPY experts (id, external_id, name, region, capacity, keywords, bio) FROM STDIN",
        (
            (i, f"X-{i}", f"专家{i}", REGIONS[i % 5], 5, words[i][:4], "".join(words[i][4:]))
            for i in ids
        ),
    )
    works = [(i, i * QUERY_WORKS + w) for i in ids for w in range(QUERY_WORKS)]
    _copy(
        conn,
        "COPY achievements (id, external_id, title, abstract, expert_ids, kind, year) FROM STDIN",
        (
            (
                a,
                f"XA-{a}",
                "".join(corpus.words(6)),
                "".join(corpus.words(40)),
                [f"X-{i}"],
                "paper",
                2024,
            )
            for i, a in works
        ),
    )
    slug = model_slug(MODEL)
    _copy(
        conn,
        f"COPY search_vectors_{slug}_experts (record_id, embedding) FROM STDIN",
        ((i, _vector_text(v)) for i, v in zip(ids, topics.vectors(topic), strict=True)),
    )
    work_vectors = topics.vectors(np.repeat(topic, QUERY_WORKS))
    _copy(
        conn,
        f"COPY search_vectors_{slug}_achievements (record_id, embedding) FROM STDIN",
        ((a, _vector_text(v)) for (_, a), v in zip(works, work_vectors, strict=True)),
    )
    return ids


def fill(db, topics: Topics, start: int, stop: int) -> float:
    """Load approved problems start..stop-1, then rebuild the problems' HNSW index."""
    t0 = time.perf_counter()
    table = f"search_vectors_{model_slug(MODEL)}_problems"
    with db.session() as conn:
        conn.execute(f"DROP INDEX IF EXISTS {table}_hnsw")
    for low in range(start, stop, CHUNK):
        with db.session() as conn:
            _fill_problems(conn, topics, low, min(low + CHUNK, stop))
    with db.session() as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute(
            f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)"
        )
    vacuum(db, ("problems", "search_documents", table))
    return time.perf_counter() - t0


def measure(matcher: Matcher, conn, experts: list[int]) -> list[float]:
    """Seconds per inbox page (10 problems, as the portal pages it) of each expert."""
    timings = []
    for expert_id in experts:
        principal = Principal(
            id=None,
            username=f"x{expert_id}",
            role="expert",
            expert_id=expert_id,
            expert_external_id=f"X-{expert_id}",
        )
        start = time.perf_counter()
        # Synthetic records never clear the relevance bar (their words are random): lift it so
        # every page is full; every candidate is still judged as with the bar on.
        page = matcher.expert_problems(
            expert_id, conn=conn, principal=principal, page_size=10, bar=False
        )
        timings.append(time.perf_counter() - start)
        assert len(page.items) == 10, len(page.items)
    return timings


def run(
    sizes: tuple[int, ...] = (10_000, 100_000),
    experts: int = 50,
    keep: Path | None = None,
    warm: int = 50,
) -> None:
    """Print p50/p95 latency of an expert's inbox page at each number of approved problems."""
    models_dir = Settings().models_dir
    modelprep.prepare_e5_small(models_dir / MODEL)
    corpus = Corpus(seed=13)
    with bench_database(keep, models=f"zh:{MODEL}", models_dir=models_dir) as (settings, db):
        indexer = Indexer(settings, db)
        with db.session() as conn:
            indexer.ensure_storage(conn)
            have = conn.execute("SELECT count(*) AS n FROM problems").fetchone()["n"]
            ids = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM experts WHERE id >= %s ORDER BY id LIMIT %s",
                    (EXPERT_BASE, warm + experts),
                )
            ]
        matcher = Matcher(indexer)
        topics = Topics(indexer, corpus)
        if len(ids) < warm + experts:
            with db.session() as conn:
                ids += _fill_experts(conn, topics, len(ids), warm + experts)
            vacuum(db, ("experts", "achievements"))
        try:
            for size in sizes:
                seconds = fill(db, topics, have, size) if size > have else 0.0
                have = max(have, size)
                with db.session() as conn:
                    # A served platform has read other inboxes before: warm the database's
                    # caches and the model on other experts than those measured.
                    measure(matcher, conn, ids[:warm])
                    timings = measure(matcher, conn, ids[warm : warm + experts])
                print(
                    f"inbox latency at {size:,} approved problems (loaded and indexed in"
                    f" {seconds:.0f}s), one page of 10:"
                )
                print(f"  {'inbox page':<26} {summary_ms(timings)}")
        finally:
            indexer.close()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.inbox_latency", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="numbers of approved problems")
    parser.add_argument("--experts", type=int, default=50, help="experts whose inbox is read")
    parser.add_argument(
        "--warm", type=int, default=50, help="other experts' inboxes read first, not timed"
    )
    parser.add_argument(
        "--keep", type=Path, help="keep the database in this folder and reuse what it holds"
    )
    args = parser.parse_args()
    run(
        sizes=tuple(int(s) for s in args.sizes.split(",")),
        experts=args.experts,
        keep=args.keep,
        warm=args.warm,
    )


if __name__ == "__main__":
    main()
