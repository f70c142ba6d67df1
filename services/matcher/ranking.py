"""Ranking by expert affinity: experts for a problem (after the rules), problems for an expert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, sees_full_problem
from greenplat.matcher import affinity as aff
from greenplat.matcher import inbox, judging, retrieval, rules
from greenplat.matcher.relevance import Direction, Level, at_least
from greenplat.matcher.scoring import Components

RankedExpert = tuple[dict, aff.Affinity, Components, aff.ExpertEvidence]
T = TypeVar("T")
# Fewest candidates judged at a time when a page wants only a few more.
JUDGE_CHUNK = 16


def rank_experts(
    indexer,
    conn: Connection,
    problem: dict,
    *,
    text: str | None = None,
    region: str | None = None,
    discipline: str | None = None,
    vectors: dict | None = None,
    bar: bool = True,
    want: int | None = None,
) -> list[RankedExpert]:
    """Candidate experts for a problem that pass the rules, filters and the bar, best first.

    A problem record is judged as a record (stored vectors on both sides); a text as a query.
    With `want`, only the best `want` that pass are judged and returned (a page and one more).
    """
    text = text or retrieval.problem_text(problem)
    problem_id = problem.get("id")
    # An English query's Chinese words find (and score) the experts whose works are Chinese;
    # the judging counts them as shared words.
    held = {} if problem_id else indexer.held_counts(conn, "achievements", text)
    translated = indexer.translated_query(conn, "achievements", text, held=held)
    if translated:  # embedded while the word searches run, as the query itself is
        indexer.prefetch_query(" ".join(translated))
    candidates = retrieval.candidate_experts(indexer, conn, text, translated=translated)
    declined = rules.declined_experts(conn, [problem_id]) if problem_id else set()
    engaged = rules.open_requests(conn, [c["id"] for c in candidates])
    kept = [
        c
        for c in candidates
        if not rules.conflicted(problem, c)
        and (problem_id, c["id"]) not in declined
        and not rules.at_capacity(c, engaged.get(c["id"], set()), problem_id)
        and (region is None or c.get("region") == region)
        and (discipline is None or discipline in (c.get("disciplines") or []))
    ]
    scored = score_experts(
        indexer,
        conn,
        problem,
        kept,
        text=text,
        vectors=vectors,
        engaged=engaged,
        translated=translated,
    )
    direction: Direction = "record" if problem_id else "search"
    return judged_prefix(
        scored,
        lambda chunk: _judge(conn, chunk, text, direction, held),
        lambda e: e[2],
        bar,
        want,
    )


def judged_prefix(
    ranked: list[T],
    judge: Callable[[list[T]], None],
    components: Callable[[T], Components],
    bar: bool,
    want: int | None,
    lowest: Level | None = None,
) -> list[T]:
    """The ranked entries that pass the bar (and `lowest` level), judged in rank order only
    until `want` of them are found: judging costs a word segmentation per candidate, and a
    page needs the best few, not all of the hundreds of candidates."""
    out: list[T] = []
    start = 0
    while start < len(ranked) and (want is None or len(out) < want):
        size = len(ranked) if want is None else max(want - len(out), JUDGE_CHUNK)
        chunk = ranked[start : start + size]
        start += size
        judge(chunk)
        for entry in chunk:
            level = components(entry).level
            if (not bar or level is not None) and (lowest is None or at_least(level, lowest)):
                out.append(entry)
    return out if want is None else out[:want]


def expert_levels(
    indexer, conn: Connection, problem: dict, experts: Sequence[dict]
) -> dict[int, Level | None]:
    """These experts' fit levels for a problem record, judged as its recommendations judge
    them (no rules applied); None below the bar or without works or profile to judge by."""
    text = retrieval.problem_text(problem)
    scored = score_experts(indexer, conn, problem, experts, text=text)
    _judge(conn, scored, text, "record")
    levels: dict[int, Level | None] = {expert["id"]: None for expert in experts}
    levels.update((expert["id"], comps.level) for expert, _, comps, _ in scored)
    return levels


def _judge(
    conn: Connection,
    scored: list[RankedExpert],
    text: str,
    direction: Direction,
    held: dict[str, int] | None = None,
) -> None:
    """Set each scored expert's calibrated probability and level (None below the bar).

    held: an English query's Chinese words the works hold (Indexer.held_counts)."""
    fits = [(fit, e, text) for e, fit, _, _ in scored]
    verdicts = judging.judge_fits(conn, fits, direction, held=held)
    for (_, _, comps, _), verdict in zip(scored, verdicts, strict=True):
        comps.probability, comps.level = verdict.probability, verdict.level


def score_experts(
    indexer,
    conn: Connection,
    problem: dict,
    experts: Sequence[dict],
    *,
    text: str | None = None,
    vectors: dict | None = None,
    engaged: dict[int, set[int]] | None = None,
    translated: Sequence[str] = (),
) -> list[RankedExpert]:
    """Score experts against a problem (no rules applied), best first.

    `translated`: a query's words in the other language (Indexer.translated_query); each work
    and profile is then judged by the closer of the query and its translation under the
    primary model, so an English query meets Chinese works on their own language's terms."""
    if not experts:
        return []
    if engaged is None:
        engaged = rules.open_requests(conn, [e["id"] for e in experts])
    text = text or retrieval.problem_text(problem)
    models = aff.preferred_models(indexer.query_models(text))
    if vectors is None:
        vectors = retrieval.source_vectors(
            indexer, conn, "problems", problem.get("id"), text, models
        )
    query = {m: vectors[m] for m in models if m in vectors}
    also = {}
    if translated and indexer.model_set.primary in query:
        # The query and its translation together (the normalised sum of their vectors): it
        # found the expert of an English title among Chinese experts better than the
        # translation alone on both bilingual checks (docs/evaluation.md).
        primary = indexer.model_set.primary
        both = query[primary] + indexer.query_vector(" ".join(translated), model=primary)
        also[primary] = both / np.linalg.norm(both)
    evidence = aff.load_evidence(indexer, conn, experts, models, query=query, also=also)
    year = dt.date.today().year
    scored = []
    for expert in experts:
        ev = evidence[expert["id"]]
        ev.open_requests = engaged.get(expert["id"], set())
        fit = aff.score_expert(vectors, models, ev)
        if fit is not None:
            comps = aff.expert_components(problem, fit, ev, year=year)
            scored.append((expert, fit, comps, ev))
    scored.sort(key=lambda item: (-item[2].score, item[0]["id"]))
    return scored


def rank_problems_for_expert(
    indexer,
    conn: Connection,
    expert: dict,
    *,
    principal: Principal,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
    region: str | None = None,
    industry: str | None = None,
    bar: bool = True,
    want: int | None = None,
    lowest: Level | None = None,
) -> list[tuple[dict, Components, aff.Affinity]]:
    """Problems the expert's works find in the index, by the expert's affinity, above the bar
    (and at `lowest` level or better); with `want`, only the best `want` of them."""
    # One expert against many problems: load the expert's evidence and the problems'
    # stored vectors once, then score in memory.
    ev = aff.load_evidence(indexer, conn, [expert], indexer.models)[expert["id"]]
    ids = inbox.candidate_ids(
        indexer, conn, ev, statuses=statuses, region=region, industry=industry
    )
    problems = inbox.readable_problems(conn, expert, ids, principal=principal, statuses=statuses)
    # The same load for every problem keeps the inbox scores equal to problem -> experts'.
    ev.open_requests = rules.open_requests(conn, [expert["id"]]).get(expert["id"], set())
    texts = {p["id"]: _inbox_text(principal, p) for p in problems}
    vectors = _inbox_vectors(indexer, conn, principal, problems, texts)
    out = []
    year = dt.date.today().year
    for problem in problems:
        models = aff.preferred_models(indexer.query_models(texts[problem["id"]]))
        mine = {m: vectors[m][problem["id"]] for m in models if problem["id"] in vectors[m]}
        fit = aff.score_expert(mine, models, ev)
        if fit is not None:
            comps = aff.expert_components(problem, fit, ev, year=year)
            out.append((problem, comps, fit))
    out.sort(key=lambda item: (-item[1].score, item[0]["id"]))

    def judge(chunk: list[tuple[dict, Components, aff.Affinity]]) -> None:
        judged = [(fit, expert, texts[problem["id"]]) for problem, _, fit in chunk]
        verdicts = judging.judge_fits(conn, judged, "record")
        for (_, comps, _), verdict in zip(chunk, verdicts, strict=True):
            comps.probability, comps.level = verdict.probability, verdict.level

    return judged_prefix(out, judge, lambda e: e[1], bar, want, lowest)


def _inbox_text(principal: Principal, problem: dict) -> str:
    """What a problem is judged by in this reader's inbox: its text, or for a confidential
    problem the reader may not read, only the summary its enterprise wrote for experts."""
    if sees_full_problem(principal, problem):
        return retrieval.problem_text(problem)
    return problem.get("public_summary") or ""


def _inbox_vectors(
    indexer, conn: Connection, principal: Principal, problems: list[dict], texts: dict
) -> dict[str, dict[int, np.ndarray]]:
    """Per model, the problems' stored vectors; a summary-only problem's vector embeds its
    summary, so neither its score nor its rank leaks the withheld text."""
    ids = [p["id"] for p in problems]
    summarised = [p["id"] for p in problems if not sees_full_problem(principal, p)]
    out = {}
    for model in indexer.models:
        out[model] = indexer.get_vectors("problems", ids, conn=conn, model=model)
        for pid in summarised:
            out[model].pop(pid, None)
        if summarised:
            encoded = indexer.encode_passages(
                [texts[p] for p in summarised], conn=conn, model=model
            )
            out[model].update(zip(summarised, encoded, strict=True))
    return out
