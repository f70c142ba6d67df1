"""Run the benchmarks and print their figures:
`python -m bench [indexing|latency|match|redaction|embed|embed-runtime|load|all]`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=[
            "all",
            "indexing",
            "latency",
            "match",
            "redaction",
            "embed",
            "load",
            "embed-runtime",
        ],
    )
    parser.add_argument(
        "--copies", type=int, default=1, help="indexing: how many times the demo records are loaded"
    )
    parser.add_argument(
        "--models", default="zh:e5-small,en:minilm", help="indexing: settings.models to embed with"
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="latency: corpus sizes, comma separated"
    )
    parser.add_argument("--rounds", type=int, default=3, help="indexing: interleaved rounds")
    parser.add_argument("--queries", type=int, default=200, help="latency: queries per kind")
    parser.add_argument("--concurrency", type=int, default=8, help="embed: threads asking at once")
    parser.add_argument("--duration", type=float, default=60, help="load: seconds per level")
    parser.add_argument("--levels", default="8,32,64", help="load: concurrent clients per level")
    parser.add_argument("--experts", type=int, default=0, help="load: synthetic experts to add")
    parser.add_argument(
        "--keep", type=Path, help="load: keep the data in this folder and reuse it next time"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="load: processes serving the platform and hello (default: settings.web_workers)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    if args.which in ("all", "indexing"):
        from bench import indexing

        indexing.run(copies=args.copies, models=args.models, rounds=args.rounds)
    if args.which in ("all", "latency"):
        from bench import latency

        sizes = tuple(int(s) for s in args.sizes.split(","))
        latency.run(sizes=sizes, queries=args.queries)
    if args.which in ("all", "match"):
        from bench import match_latency

        sizes = tuple(int(s) for s in args.sizes.split(","))
        match_latency.run(sizes=sizes, queries=min(args.queries, 50))
    if args.which in ("all", "redaction"):
        from bench import redaction

        redaction.run()
    if args.which in ("all", "embed-runtime"):
        from bench import query_embedding

        query_embedding.runtimes(queries=min(args.queries, 96))
    if args.which == "load":  # minutes per level: not part of "all"
        from bench import load

        levels = tuple(int(n) for n in args.levels.split(","))
        load.run(
            duration=args.duration,
            levels=levels,
            experts=args.experts,
            keep=args.keep,
            workers=args.workers,
        )
    if args.which in ("all", "embed"):
        from bench import query_embedding

        query_embedding.run(concurrency=args.concurrency, queries=min(args.queries, 96))


if __name__ == "__main__":
    main()
