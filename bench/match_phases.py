"""Where a match's time goes, and where its top experts come from, on a kept bench database.

    python -m bench.match_latency --sizes 100000 --queries 50 --keep DIR   # builds DIR once
    python -m bench.match_phases --keep DIR [--queries 150] [--warm 300]

Phases: timers around the steps of problem -> top 20 experts (the bench.match_latency path),
each printed as p50 / p95 of its wall time per search, beside the whole search. A step's time
includes the steps it calls (Indexer.search holds its statements; load_evidence holds the works
and cosines). The four candidate searches are printed per library and mode.

Depths: for every expert of each top 20, its best position in each candidate list (the word
and meaning searches of achievements and of profiles), and how many of those experts cutting
the lists shorter would lose: whether retrieval.ACHIEVEMENT_DEPTH and EXPERT_DEPTH may shrink.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings
from greenplat.indexer import modelprep, pgbackend
from greenplat.indexer.service import Indexer
from greenplat.matcher import affinity, items, judging, ranking, retrieval, rules
from greenplat.matcher.service import Matcher

from .common import bench_database, percentile
from .latency import Corpus
from .match_latency import measure

# (owner, attribute, label): the steps timed, outermost first.
STEPS: list[tuple[Any, str, str]] = [
    (retrieval, "candidate_experts", "candidate searches + candidates' rows"),
    (Indexer, "search", "  the four searches"),
    (Indexer, "query_vector", "    waiting for the query vector"),
    (rules, "declined_experts", "rules: declined"),
    (rules, "open_requests", "rules: open requests"),
    (ranking, "score_experts", "score candidates"),
    (affinity, "works_by_author", "  works of candidates (not kept in memory)"),
    (affinity, "_load_similarities", "  cosines of works and profiles"),
    (Indexer, "get_vectors", "    vectors not kept in memory"),
    (ranking, "_judge", "judge against the bar"),
    (judging, "_work_texts", "  texts of closest works"),
    (items, "expert_items", "reasons of the page"),
]
LISTS = ("achievements.vector", "achievements.lexical", "experts.vector", "experts.lexical")
CUTS = ((150, 75), (120, 60), (100, 50), (80, 40))


class Timers:
    """Per-search wall time of each wrapped step (summed over its calls in one search)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.per_search: dict[str, list[float]] = defaultdict(list)

    def wrap(self, owner: Any, name: str, label: str | Callable[..., str]) -> Callable[[], None]:
        """Time owner.name under label (or label(*args) of each call); returns the undo."""
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label(*args) if callable(label) else label
                self.current[key] += time.perf_counter() - start

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    def close_search(self) -> None:
        for label, seconds in self.current.items():
            self.per_search[label].append(seconds)
        self.current.clear()


@contextmanager
def instrumented(timers: Timers, lists: list[tuple[str, str, list[int]]]) -> Iterator[None]:
    """Timers around STEPS and around each backend search; the candidate lists recorded."""
    searched = Indexer.search

    def recorded(self, library, **kwargs):
        hits = searched(self, library, **kwargs)
        lists.append((library, kwargs.get("mode", "hybrid"), [h.record_id for h in hits]))
        return hits

    Indexer.search = recorded  # first, so that its step timer (below) wraps the recording
    undo = [lambda: setattr(Indexer, "search", searched)]
    undo += [timers.wrap(owner, name, label) for owner, name, label in STEPS]
    for method, how in (("search_lexical", "words"), ("search_vector", "meaning")):
        # (backend, conn, library, ...): the backend's searches per library
        label = lambda _b, _c, library, *_, how=how: f"    {library} by {how}"  # noqa: E731
        undo.append(timers.wrap(pgbackend.PostgresBackend, method, label))
    try:
        yield
    finally:
        for restore in reversed(undo):
            restore()


def best_positions(conn, lists, page_items) -> list[dict[str, int]]:
    """For each expert of the page, its best position in each candidate list."""
    works = [rid for library, _, ids in lists if library == "achievements" for rid in ids]
    rows = conn.execute(
        "SELECT id, expert_ids FROM achievements WHERE id = ANY(%s)", (works,)
    ).fetchall()
    authors = {r["id"]: set(r["expert_ids"]) for r in rows}
    out = []
    for item in page_items:
        best: dict[str, int] = {}
        for library, mode, ids in lists:
            for position, rid in enumerate(ids):
                found = (
                    rid == item.id
                    if library == "experts"
                    else item.external_id in authors.get(rid, ())
                )
                if found:
                    key = f"{library}.{mode}"
                    best[key] = min(best.get(key, position), position)
                    break
        out.append(best)
    return out


def run(keep: Path, queries: int, warm: int) -> None:
    """Print the phase table and the depth check."""
    models_dir = Settings().models_dir
    timers, lists = Timers(), []
    corpus = Corpus(seed=23)
    with bench_database(keep, models=f"zh:{modelprep.E5_SMALL_NAME}", models_dir=models_dir) as (
        settings,
        db,
    ):
        indexer = Indexer(settings, db)
        matcher = Matcher(indexer)
        positions: list[dict[str, int]] = []
        totals = []
        try:
            with db.session() as conn:
                experts = conn.execute("SELECT count(*) AS n FROM experts").fetchone()["n"]
                print(f"{experts:,} experts: warming up with {warm} searches, then {queries} timed")
                matcher.warm(conn)
                measure(matcher, conn, corpus, warm)  # as bench.match_latency warms up
                with instrumented(timers, lists):
                    for _ in range(queries):
                        lists.clear()
                        text = "".join(corpus.words(12))
                        start = time.perf_counter()
                        page = matcher.search(
                            text, "experts", conn=conn, principal=SYSTEM, page_size=20, bar=False
                        )
                        totals.append(time.perf_counter() - start)
                        timers.close_search()
                        positions += best_positions(conn, lists, page.items)
        finally:
            indexer.close()
    _print_phases(experts, totals, timers)
    _print_depths(positions)


def _ms(values: list[float], total: int) -> str:
    values = values + [0.0] * (total - len(values))  # a step that did not run took no time
    ms = [v * 1000 for v in values]
    return f"{percentile(ms, 50):6.1f} | {percentile(ms, 95):6.1f}"


def _print_phases(experts: int, totals: list[float], timers: Timers) -> None:
    print(f"\nproblem -> top 20 experts at {experts:,} experts, {len(totals)} searches (ms)")
    print("| step | p50 | p95 |\n|---|---|---|")
    print(f"| whole search | {_ms(totals, len(totals))} |")
    labels = [label for _, _, label in STEPS]
    # The backend's searches under the step that runs them.
    searches = sorted(set(timers.per_search) - set(labels))
    at = labels.index("  the four searches") + 1
    labels[at:at] = searches
    for label in labels:
        if label in timers.per_search:
            print(f"| {label} | {_ms(timers.per_search[label], len(totals))} |")


def _print_depths(positions: list[dict[str, int]]) -> None:
    print(f"\nwhere the top 20 experts came from ({len(positions)} page entries)")
    print("| list | entries found there | only there | p50 / p90 / max position |")
    print("|---|---|---|---|")
    for key in LISTS:
        found = [p[key] for p in positions if key in p]
        only = sum(1 for p in positions if list(p) == [key])
        spread = (
            " / ".join(str(int(v)) for v in np.percentile(found, [50, 90])) + f" / {max(found)}"
            if found
            else "-"
        )
        print(f"| {key} | {len(found)} | {only} | {spread} |")
    print("\n| achievement / profile depth | top-20 entries no list would find |\n|---|---|")
    for works, profiles in CUTS:
        lost = sum(
            1
            for p in positions
            if not any(
                v < (works if k.startswith("achievements") else profiles) for k, v in p.items()
            )
        )
        print(f"| {works} / {profiles} | {lost} of {len(positions)} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.match_phases", description=__doc__)
    parser.add_argument("--keep", type=Path, required=True, help="a bench.match_latency database")
    parser.add_argument("--queries", type=int, default=150, help="searches timed")
    parser.add_argument("--warm", type=int, default=300, help="searches first, not timed")
    args = parser.parse_args()
    run(args.keep, args.queries, args.warm)


if __name__ == "__main__":
    main()
