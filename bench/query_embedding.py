"""Query embedding under concurrency: the API's batching encoder against each request
embedding its own query (what requests did before), in the same run; and torch against ONNX
Runtime's float and int8 graphs on one thread (`runtimes`).

    python -m bench embed [--concurrency 8] [--queries 96] [--model e5-small]
    python -m bench embed-runtime [--queries 96]

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
from statistics import median

from greenplat.core.settings import Settings
from greenplat.indexer import modelprep
from greenplat.indexer.embedding import Kind, ModelSet, export_onnx, limit_torch_threads
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
        # the worker's own threads limit: with ONNX, its own session (created on first use)
        encoder.vector("warm up the worker", model=model)
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
        f"query embedding ({settings.model_runtime}), {queries} queries from {concurrency} "
        f"threads, model {model}, "
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
    print(f"  model calls when batched: {encoder.batches - 1} (and one to warm up)")
    cpu_ratio = batched_cpu / alone_cpu
    print(f"  batched / unbatched: throughput {ratio:.2f}x, CPU per query {cpu_ratio:.2f}x")
    return ratio


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of call (this thread's CPU: one model thread runs on it)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return time.perf_counter() - wall, time.thread_time() - cpu


def _turns(
    sets: dict[str, ModelSet], batches: list[list[str]], model: str, kind: Kind
) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each batch per runtime, the runtimes taking turns so that both
    see the same load on a shared machine."""
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in sets}
    for batch in batches:
        for name, models in sets.items():
            wall, cpu = _timed(lambda m=models, b=batch: m.raw_encode(b, model=model, kind=kind))
            out[name][0].append(wall)
            out[name][1].append(cpu)
    return out


def runtimes(queries: int = 96, models: tuple[str, ...] = ("e5-small", "minilm")) -> None:
    """Print torch's and ONNX Runtime's (float and int8 graphs) per-query latency and batch
    throughput on one thread, their ratios, and the least cosine of each to torch's vectors."""
    settings = Settings()
    modelprep.prepare_e5_small(settings.models_dir / modelprep.E5_SMALL_NAME)
    export_onnx(settings.models_dir)
    limit_torch_threads(1)  # this thread's torch and ONNX sessions: one thread each
    corpus = Corpus(seed=11)
    texts = ["".join(corpus.words(12)) for _ in range(queries)]
    passages = [["".join(corpus.words(60)) for _ in range(32)] for _ in range(3)]
    for model in models:
        sets = {
            runtime: ModelSet(
                settings.model_copy(update={"models": model, "model_runtime": runtime})
            )
            for runtime in ("torch", "onnx", "onnx-int8")
        }
        for name in ("onnx", "onnx-int8"):
            encoder = sets[name].onnx_encoder(model)
            assert encoder is not None, f"{model} has no ONNX export"
            assert encoder.quantized == (name == "onnx-int8"), f"{model}: no int8 graph"
        vectors = {n: m.raw_encode(texts[:32], model=model, kind="query") for n, m in sets.items()}
        least = {
            n: float((vectors["torch"] * vectors[n]).sum(axis=1).min())
            for n in ("onnx", "onnx-int8")
        }
        alone = _turns(sets, [[text] for text in texts], model, "query")
        batched = _turns(sets, passages, model, "passage")
        print(f"{model}, 1 thread, {queries} queries alone, {len(passages)} x 32 passages:")
        for name in sets:
            walls, cpus = alone[name]
            rate = 32 * len(passages) / sum(batched[name][0])
            cpu_rate = 32 * len(passages) / sum(batched[name][1])
            print(
                f"  {name:<9} query {summary_ms(walls)}, CPU p50 {1000 * median(cpus):5.1f} ms;"
                f"  batch {rate:5.1f} passages/s ({cpu_rate:5.1f} per CPU-s)"
            )
        for slow, fast in (("torch", "onnx"), ("onnx", "onnx-int8")):
            ratio = median(alone[slow][0]) / median(alone[fast][0])
            cpu_ratio = median(alone[slow][1]) / median(alone[fast][1])
            batch = sum(batched[slow][1]) / sum(batched[fast][1])
            print(
                f"  {slow} / {fast}: query p50 {ratio:.2f}x (CPU {cpu_ratio:.2f}x), batch CPU "
                f"per passage {batch:.2f}x; least cosine of {fast} to torch {least[fast]:.6f}"
            )
