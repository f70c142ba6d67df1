"""Query embedding under concurrency: the API's batching encoder against each request
embedding its own query (what requests did before), in the same run.

    python -m bench embed [--concurrency 8] [--queries 96] [--model e5-small]

Each of `concurrency` threads embeds distinct query texts one after another, as concurrent
search and match requests do. "unbatched": every thread calls the model itself with torch's
default threads. "batched": every thread asks the QueryEncoder, whose one worker embeds the
queries that arrive together in one call, with GREENPLAT_EMBED_THREADS threads. The ratio is
batched queries/s over unbatched queries/s, and the CPU seconds per query (on a shared machine
the CPU figure is the steadier one: more threads take a bigger share of busy cores); no cache
hits (every text is new).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from greenplat.core.settings import Settings
from greenplat.indexer import modelprep
from greenplat.indexer.embedding import ModelSet
from greenplat.indexer.queries import QueryEncoder

from .common import summary_ms
from .latency import Corpus


def _drive(
    embed: Callable[[str], object], texts: list[str], concurrency: int
) -> tuple[float, float, list[float]]:
    """Wall and CPU seconds for all texts over `concurrency` threads, and each query's seconds."""
    share = [texts[i::concurrency] for i in range(concurrency)]
    timings: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)

    def work(mine: list[str]) -> None:
        start.wait()
        for text in mine:
            began = time.perf_counter()
            embed(text)
            with lock:
                timings.append(time.perf_counter() - began)

    threads = [threading.Thread(target=work, args=(mine,)) for mine in share]
    for thread in threads:
        thread.start()
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, time.process_time() - cpu, timings


def run(concurrency: int = 8, queries: int = 96, model: str = "e5-small") -> float:
    """Print queries/s and latency of both ways, and their ratio; returns the ratio."""
    settings = Settings(models=f"zh:{model}")
    if model == modelprep.E5_SMALL_NAME:
        modelprep.prepare_e5_small(settings.models_dir / model)
    models = ModelSet(settings)
    corpus = Corpus(seed=5)
    models.raw_encode(["warm up"], model=model, kind="query")
    encoder = QueryEncoder(
        models,
        threads=settings.effective_embed_threads,
        window_ms=settings.query_batch_ms,
        cache_size=0,
    )
    try:
        fresh = ["".join(corpus.words(12)) for _ in range(2 * queries)]
        alone, alone_cpu, alone_t = _drive(
            lambda t: models.raw_encode([t], model=model, kind="query"),
            fresh[:queries],
            concurrency,
        )
        batched, batched_cpu, batched_t = _drive(
            lambda t: encoder.vector(t, model=model), fresh[queries:], concurrency
        )
    finally:
        encoder.close()
    ratio = alone / batched
    print(
        f"query embedding, {queries} queries from {concurrency} threads, model {model}, "
        f"embed threads {settings.effective_embed_threads}, window {settings.query_batch_ms} ms:"
    )
    for name, wall, cpu, timings in (
        ("unbatched", alone, alone_cpu, alone_t),
        ("batched", batched, batched_cpu, batched_t),
    ):
        print(
            f"  {name:<9} {queries / wall:6.1f} q/s  {1000 * cpu / queries:6.1f} CPU-ms/query"
            f"  {summary_ms(timings)}"
        )
    print(f"  model calls when batched: {encoder.batches}")
    cpu_ratio = batched_cpu / alone_cpu
    print(f"  batched / unbatched: throughput {ratio:.2f}x, CPU per query {cpu_ratio:.2f}x")
    return ratio
