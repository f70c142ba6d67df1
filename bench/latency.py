"""Query latency of lexical and vector search at 10k and 100k documents (PostgreSQL backend).

Embedding 100k texts takes over an hour here, so the documents are synthetic: terms drawn
(Zipf-like) from the jieba vocabulary of the demo data, and 384-d unit vectors around 300
topic centres (clustered like real embeddings; uniform random vectors would be HNSW's worst
case and unlike any corpus). Queries: 3 terms; vectors near a random centre. Each query runs
through PostgresBackend in its own transaction, as Indexer.search does.
"""

from __future__ import annotations

import json
import time
from importlib import resources

import numpy as np

from greenplat.indexer.analysis import terms, tsvector_literal
from greenplat.indexer.pgbackend import PostgresBackend, model_slug, vector_table
from greenplat.indexer.search import SearchFilters

from .common import bench_database, summary_ms

MODEL = "bench-384"
DIM = 384
REGIONS = ("江苏", "浙江", "广东", "四川", "山东")


def vocabulary() -> list[str]:
    words: dict[str, None] = {}
    for library in ("problems", "achievements", "experts"):
        path = resources.files("greenplat.core") / "demo" / "data" / f"{library}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            for term in terms(" ".join(str(v) for v in json.loads(line).values())):
                words[term] = None
    return list(words)


class Corpus:
    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.vocab = vocabulary()
        ranks = np.arange(1, len(self.vocab) + 1)
        self.weights = (1 / ranks) / (1 / ranks).sum()
        self.centres = self._unit(self.rng.normal(size=(300, DIM)))

    @staticmethod
    def _unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def vectors(self, n: int) -> np.ndarray:
        centre = self.centres[self.rng.integers(0, len(self.centres), n)]
        return self._unit(centre + 0.06 * self.rng.normal(size=(n, DIM)))

    def words(self, n: int) -> list[str]:
        return list(self.rng.choice(self.vocab, size=n, p=self.weights))


def fill(db, backend: PostgresBackend, corpus: Corpus, start: int, stop: int) -> float:
    """COPY documents start..stop-1 in, then (re)build the HNSW index; returns seconds."""
    t0 = time.perf_counter()
    table = f"search_vectors_{model_slug(MODEL)}_problems"
    vectors = corpus.vectors(stop - start)
    with db.session() as conn:
        conn.execute(f"DROP INDEX IF EXISTS {table}_hnsw")
        with conn.cursor().copy(
            "COPY search_documents (library, record_id, external_id, title, lexemes, region,"
            " status, content_hash, models) FROM STDIN"
        ) as copy:
            for i in range(start, stop):
                words = corpus.words(60)
                lexemes = tsvector_literal([("A", words[:6]), ("D", words[6:])])
                copy.write_row(
                    (
                        "problems",
                        i,
                        f"P-{i}",
                        "",
                        lexemes,
                        REGIONS[i % len(REGIONS)],
                        "approved",
                        "-",
                        [MODEL],
                    )
                )
        with conn.cursor().copy(
            f"COPY {table} (record_id, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "vector"])
            for i, v in zip(range(start, stop), vectors, strict=True):
                copy.write_row((i, v))
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute(
            f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)"
        )
        conn.execute("ANALYZE search_documents")
        conn.execute(f"ANALYZE {table}")
    return time.perf_counter() - t0


KINDS = {
    "lexical": ("lexical", SearchFilters()),
    "lexical + region filter": ("lexical", SearchFilters(region=REGIONS[0])),
    "vector": ("vector", SearchFilters()),
    "vector + region filter": ("vector", SearchFilters(region=REGIONS[0])),
}


def measure(db, backend, corpus: Corpus, queries: int, k: int = 50) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in KINDS}
    for _ in range(queries):
        words, vector = corpus.words(3), corpus.vectors(1)[0]
        for name, (kind, filters) in KINDS.items():
            start = time.perf_counter()
            with db.session() as conn:
                if kind == "lexical":
                    found = backend.search_lexical(conn, "problems", words, filters, k)
                else:
                    found = backend.search_vector(conn, "problems", MODEL, vector, filters, k)
            timings[name].append(time.perf_counter() - start)
            assert kind == "lexical" or len(found) == k, (name, len(found))
    return timings


def recall(db, backend, corpus: Corpus, n: int = 30, k: int = 10) -> float:
    """HNSW recall@k against exact search, for the record."""
    table = vector_table(model_slug(MODEL), "problems").as_string(None)
    hits = 0
    for _ in range(n):
        v = corpus.vectors(1)[0]
        with db.session() as conn:
            approx = {
                c.record_id
                for c in backend.search_vector(conn, "problems", MODEL, v, SearchFilters(), k)
            }
            conn.execute("SET LOCAL enable_indexscan = off")
            exact = {
                r["record_id"]
                for r in conn.execute(
                    f"SELECT record_id FROM {table} ORDER BY embedding <=> %s LIMIT %s", (v, k)
                )
            }
        hits += len(approx & exact)
    return hits / (n * k)


def uses_hnsw(db, corpus: Corpus) -> bool:
    """Whether the planner answers the filtered vector query through the HNSW index."""
    table = vector_table(model_slug(MODEL), "problems").as_string(None)
    with db.session() as conn:
        plan = conn.execute(
            f"EXPLAIN SELECT v.record_id FROM {table} v JOIN search_documents p"
            " ON p.library = 'problems' AND p.record_id = v.record_id WHERE p.region = %s"
            " ORDER BY v.embedding <=> %s LIMIT 50",
            (REGIONS[0], corpus.vectors(1)[0]),
        ).fetchall()
    return any("_hnsw" in next(iter(row.values())) for row in plan)


def query_encoding(queries: int = 50) -> None:
    """Print the cost of embedding a query with each default model (part of every search)."""
    import torch

    from greenplat.core.settings import Settings
    from greenplat.indexer.embedding import ModelSet

    models = ModelSet(Settings(env="test"))
    samples = ["高盐废水分盐结晶的能耗如何降低", "low-cost sensors for methane leak detection"]
    default_threads = torch.get_num_threads()
    for key in models.keys:
        models.raw_encode(samples, model=key, kind="query")  # load and warm up
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            timings = []
            for i in range(queries):
                start = time.perf_counter()
                models.raw_encode([samples[i % 2]], model=key, kind="query")
                timings.append(time.perf_counter() - start)
            print(f"  query encoding {key:<10} torch threads {threads}  {summary_ms(timings)}")
    torch.set_num_threads(default_threads)


def run(sizes: tuple[int, ...] = (10_000, 100_000), queries: int = 200) -> None:
    """Print p50/p95 latency per search kind at each corpus size."""
    print("query encoding (one query per call):")
    query_encoding()
    corpus = Corpus()
    with bench_database() as (_settings, db):
        backend = PostgresBackend()
        with db.session() as conn:
            backend.ensure_models(conn, {MODEL: DIM})
        have = 0
        for size in sizes:
            seconds = fill(db, backend, corpus, have, size)
            have = size
            print(
                f"latency at {size:,} documents (loaded and indexed in {seconds:.0f}s),"
                f" k=50, {queries} queries each:"
            )
            measure(db, backend, corpus, 10)  # warm the caches
            for name, values in measure(db, backend, corpus, queries).items():
                print(f"  {name:<24} {summary_ms(values)}")
            print(
                f"  HNSW recall@10 vs exact: {recall(db, backend, corpus):.3f};"
                f" vector plan uses HNSW: {uses_hnsw(db, corpus)}"
            )
