"""What a stronger English model costs: memory with the models loaded, query encode time.

    python -m bench.expertise_costs --models zh:e5-small,en:minilm,en:mpnet --queries 10

Loads each model of settings.models in turn (as the API process does on first use) and
prints the process's resident memory after each, then the median time to encode one
problem text (a query: what problem -> experts pays for a free-text problem) per model,
all in the same run on the same texts (the first dev set's problems).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from bench.evaldata import read
from greenplat.core.settings import Settings
from greenplat.indexer.embedding import ModelSet
from greenplat.matcher import retrieval


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.expertise_costs", description=__doc__)
    parser.add_argument("--models", default="zh:e5-small,en:minilm,en:mpnet")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    problems = list(read(args.data / "expertise-dev-d_20_1" / "problems.jsonl"))
    texts = [retrieval.problem_text(p) for p in problems[: args.queries]]
    models = ModelSet(Settings(models=args.models))
    print(f"RSS before loading models: {rss_mb():.0f} MB")
    for key in models.keys:
        models.raw_encode(texts[:1], model=key, kind="query")
        print(f"RSS with {key} loaded: {rss_mb():.0f} MB")
    for key in models.keys:
        times = []
        for text in texts:
            started = time.perf_counter()
            models.raw_encode([text], model=key, kind="query")
            times.append(time.perf_counter() - started)
        print(
            f"query encode {key}: median {statistics.median(times) * 1000:.0f} ms,"
            f" max {max(times) * 1000:.0f} ms ({len(texts)} problem texts, {args.threads} threads)"
        )


if __name__ == "__main__":
    main()
