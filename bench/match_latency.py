"""Match latency: problem -> top 20 experts, query embedding included, at 10k and 100k experts.

    python -m bench.match_latency [--sizes 10000,100000] [--queries 50] [--warm 50]

Each expert has a profile and two achievements. Embedding 300k texts takes hours here, so the
records are synthetic: terms drawn from the demo data's vocabulary (bench.latency.Corpus) and
vectors placed around real multilingual-e5-small embeddings of 300 topic texts, so they sit
where real e5 vectors sit. The query is embedded for real by e5-small, and the whole matcher
path runs on the default backend (PostgreSQL): hybrid candidate search over achievements and
profiles, conflict/capacity/declined rules, top-3 work affinity, re-ranking, explanations.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import psycopg
from rich.progress import Progress

from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings
from greenplat.indexer import modelprep
from greenplat.indexer.analysis import tsvector_literal
from greenplat.indexer.pgbackend import model_slug
from greenplat.indexer.service import Indexer
from greenplat.matcher.service import Matcher

from .common import bench_database, summary_ms
from .latency import Corpus

MODEL = modelprep.E5_SMALL_NAME
WORKS = 2
TOPICS = 300
REGIONS = ("江苏", "浙江", "广东", "四川", "山东")
CHUNK = 5000


class Topics:
    """Topic centres that are real e5 embeddings, and records drawn around them."""

    def __init__(self, indexer: Indexer, corpus: Corpus) -> None:
        self.corpus = corpus
        self.texts = ["".join(corpus.words(8)) for _ in range(TOPICS)]
        self.centres = indexer.model_set.raw_encode(self.texts, model=MODEL, kind="passage")

    def vectors(self, topics: np.ndarray) -> np.ndarray:
        noisy = self.centres[topics] + 0.02 * self.corpus.rng.normal(size=(len(topics), 384))
        return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def _vector_text(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector) + "]"


def _copy(conn, statement: str, rows) -> None:
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _fill_chunk(conn, topics: Topics, start: int, stop: int) -> None:
    corpus, ids = topics.corpus, range(start, stop)
    topic = corpus.rng.integers(0, TOPICS, stop - start)
    words = {i: corpus.words(30) for i in ids}
    _copy(
        conn,
        "COPY experts (id, external_id, name, region, capacity, keywords, bio) FROM STDIN",
        (
            (i, f"E-{i}", f"专家{i}", REGIONS[i % 5], 5, words[i][:4], "".join(words[i][4:]))
            for i in ids
        ),
    )
    _copy(
        conn,
        "COPY achievements (id, external_id, title, abstract, expert_ids, kind) FROM STDIN",
        (
            (
                i * WORKS + w,
                f"A-{i}-{w}",
                "".join(words[i][w * 3 : w * 3 + 6]),
                "".join(corpus.words(40)),
                [f"E-{i}"],
                "paper",
            )
            for i in ids
            for w in range(WORKS)
        ),
    )
    docs = "COPY search_documents (library, record_id, external_id, title, lexemes, region,"
    docs += " expert_ids, models, content_hash) FROM STDIN"
    _copy(
        conn,
        docs,
        [
            (
                "experts",
                i,
                f"E-{i}",
                f"专家{i}",
                tsvector_literal([("B", words[i][:4]), ("D", words[i][4:])]),
                REGIONS[i % 5],
                [f"E-{i}"],
                [MODEL],
                "-",
            )
            for i in ids
        ]
        + [
            (
                "achievements",
                i * WORKS + w,
                f"A-{i}-{w}",
                "",
                tsvector_literal([("A", words[i][w * 3 : w * 3 + 6]), ("D", corpus.words(40))]),
                None,
                [f"E-{i}"],
                [MODEL],
                "-",
            )
            for i in ids
            for w in range(WORKS)
        ],
    )
    slug = model_slug(MODEL)
    expert_vectors = topics.vectors(topic)
    _copy(
        conn,
        f"COPY search_vectors_{slug}_experts (record_id, embedding) FROM STDIN",
        ((i, _vector_text(v)) for i, v in zip(ids, expert_vectors, strict=True)),
    )
    work_vectors = topics.vectors(np.repeat(topic, WORKS))
    _copy(
        conn,
        f"COPY search_vectors_{slug}_achievements (record_id, embedding) FROM STDIN",
        (
            (i * WORKS + w, _vector_text(work_vectors[(i - start) * WORKS + w]))
            for i in ids
            for w in range(WORKS)
        ),
    )


def fill(db, topics: Topics, start: int, stop: int) -> float:
    """Load experts start..stop-1 with their works, then rebuild the HNSW indexes."""
    t0 = time.perf_counter()
    slug = model_slug(MODEL)
    tables = [f"search_vectors_{slug}_{lib}" for lib in ("experts", "achievements")]
    with db.session() as conn:
        for table in tables:
            conn.execute(f"DROP INDEX IF EXISTS {table}_hnsw")
    with Progress(transient=True) as progress:
        task = progress.add_task(f"loading experts {start:,}..{stop:,}", total=stop - start)
        for low in range(start, stop, CHUNK):
            with db.session() as conn:
                _fill_chunk(conn, topics, low, min(low + CHUNK, stop))
            progress.advance(task, min(CHUNK, stop - low))
    with db.session() as conn, Progress(transient=True) as progress:
        progress.add_task("building HNSW indexes", total=None)
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for table in tables:
            conn.execute(
                f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)"
            )
    vacuum(db, ("experts", "achievements", "search_documents", *tables))
    return time.perf_counter() - t0


def vacuum(db, tables) -> None:
    """VACUUM (ANALYZE) after a bulk load, as autovacuum would soon do: rows copied in sit in
    the GIN indexes' pending lists until then, and every search scans those lists (one
    expert_ids lookup took 59 ms instead of 3 ms)."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")


def measure(
    matcher: Matcher, conn: psycopg.Connection, corpus: Corpus, queries: int
) -> list[float]:
    """Seconds per problem -> top 20 experts (embedding, retrieval, rules, scoring, reasons)."""
    timings = []
    for _ in range(queries):
        text = "".join(corpus.words(12))
        start = time.perf_counter()
        # Synthetic records never clear the relevance bar (their words are random): lift it so
        # every query ranks a full page; every candidate is still judged as with the bar on.
        page = matcher.search(text, "experts", conn=conn, principal=SYSTEM, page_size=20, bar=False)
        timings.append(time.perf_counter() - start)
        assert len(page.items) == 20, len(page.items)
    return timings


def measure_embedding(indexer: Indexer, corpus: Corpus, queries: int) -> list[float]:
    """Seconds to embed one problem text alone: the floor under every match (baseline)."""
    timings = []
    for _ in range(queries):
        text = "".join(corpus.words(12))
        start = time.perf_counter()
        indexer.model_set.raw_encode([text], model=MODEL, kind="query")
        timings.append(time.perf_counter() - start)
    return timings


def run(
    sizes: tuple[int, ...] = (10_000, 100_000),
    queries: int = 50,
    keep: Path | None = None,
    warm: int = 50,
) -> None:
    """Print p50/p95 latency of problem -> top 20 experts at each number of experts."""
    models_dir = Settings().models_dir
    modelprep.prepare_e5_small(models_dir / MODEL)
    corpus = Corpus(seed=11)
    with bench_database(keep, models=f"zh:{MODEL}", models_dir=models_dir) as (settings, db):
        indexer = Indexer(settings, db)
        with db.session() as conn:
            indexer.ensure_storage(conn)
            have = conn.execute("SELECT count(*) AS n FROM experts").fetchone()["n"]
        matcher = Matcher(indexer)
        topics = Topics(indexer, corpus)
        try:
            for size in sizes:
                seconds = fill(db, topics, have, size) if size > have else 0.0
                have = max(have, size)
                with db.session() as conn:
                    # As a served process does at start-up (api.app.warm); then, as a served
                    # platform has answered other problems before, warm the database's
                    # caches and the model on other (random) texts.
                    matcher.warm(conn)
                    measure(matcher, conn, corpus, warm)
                    timings = measure(matcher, conn, corpus, queries)
                print(
                    f"match latency at {size:,} experts ({size * WORKS:,} achievements; loaded"
                    f" and indexed in {seconds:.0f}s), problem -> top 20 experts:"
                )
                baseline = measure_embedding(indexer, corpus, queries)
                print(f"  {'embed + match + explain':<26} {summary_ms(timings)}")
                print(f"  {'baseline: embed alone':<26} {summary_ms(baseline)}")
                ratio = float(np.median(timings) / np.median(baseline))
                print(f"  {'match / baseline (p50)':<26} {ratio:.1f}x")
        finally:
            indexer.close()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.match_latency", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="numbers of experts")
    parser.add_argument("--queries", type=int, default=50, help="problems per size")
    parser.add_argument("--warm", type=int, default=50, help="other problems first, not timed")
    parser.add_argument(
        "--keep", type=Path, help="keep the database in this folder and reuse what it holds"
    )
    args = parser.parse_args()
    run(
        sizes=tuple(int(s) for s in args.sizes.split(",")),
        queries=args.queries,
        keep=args.keep,
        warm=args.warm,
    )


if __name__ == "__main__":
    main()
