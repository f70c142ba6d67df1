"""Ranking by expert affinity: experts for a problem (after the rules), problems for an expert."""

from __future__ import annotations

from collections.abc import Sequence

from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, problem_full_filter, problem_read_filter
from greenplat.core.problems.models import PROBLEM_STATUSES
from greenplat.matcher import affinity as aff
from greenplat.matcher import retrieval, rules
from greenplat.matcher.scoring import Components

RankedExpert = tuple[dict, aff.Affinity, Components, aff.ExpertEvidence]


def rank_experts(
    indexer,
    conn: Connection,
    problem: dict,
    *,
    text: str | None = None,
    region: str | None = None,
    discipline: str | None = None,
    vectors: dict | None = None,
) -> list[RankedExpert]:
    """Candidate experts for a problem that pass the rules and filters, best first."""
    text = text or retrieval.problem_text(problem)
    candidates = retrieval.candidate_experts(indexer, conn, text)
    problem_id = problem.get("id")
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
    return score_experts(indexer, conn, problem, kept, text=text, vectors=vectors, engaged=engaged)


def score_experts(
    indexer,
    conn: Connection,
    problem: dict,
    experts: Sequence[dict],
    *,
    text: str | None = None,
    vectors: dict | None = None,
    engaged: dict[int, set[int]] | None = None,
) -> list[RankedExpert]:
    """Score experts against a problem (no rules applied), best first."""
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
    evidence = aff.load_evidence(indexer, conn, experts, models)
    scored = []
    for expert in experts:
        ev = evidence[expert["id"]]
        fit = aff.score_expert(vectors, models, ev)
        if fit is not None:
            load = len(engaged.get(expert["id"], ()))
            comps = aff.expert_components(problem, fit, ev, open_requests=load)
            scored.append((expert, fit, comps, ev))
    scored.sort(key=lambda item: (-item[2].score, item[0]["id"]))
    return scored


def rank_problems_for_expert(
    indexer,
    conn: Connection,
    expert: dict,
    *,
    principal: Principal,
    limit: int = 5000,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
) -> list[tuple[dict, Components, aff.Affinity]]:
    """Every matchable problem the principal may read, scored by this expert's affinity."""
    problems = _readable_problems(conn, expert, principal=principal, limit=limit, statuses=statuses)
    # One expert against many problems: load the expert's evidence and the problems'
    # stored vectors once, then score in memory.
    evidence = aff.load_evidence(indexer, conn, [expert], indexer.models)
    ev = evidence[expert["id"]]
    # The same load for every problem keeps the inbox scores equal to problem -> experts'.
    load = len(rules.open_requests(conn, [expert["id"]]).get(expert["id"], ()))
    ids = [p["id"] for p in problems]
    stored = {m: indexer.get_vectors("problems", ids, conn=conn, model=m) for m in indexer.models}
    out = []
    for problem in problems:
        text = retrieval.problem_text(problem)
        models = aff.preferred_models(indexer.query_models(text))
        vectors = {m: stored[m][problem["id"]] for m in models if problem["id"] in stored[m]}
        fit = aff.score_expert(vectors, models, ev)
        if fit is not None:
            comps = aff.expert_components(problem, fit, ev, open_requests=load)
            out.append((problem, comps, fit))
    out.sort(key=lambda item: (-item[1].score, item[0]["id"]))
    return out


def _readable_problems(
    conn: Connection,
    expert: dict,
    *,
    principal: Principal,
    limit: int,
    statuses: rules.Statuses,
) -> list[dict]:
    """Problems of these statuses the principal may read in full, less declined and
    conflicted ones. A confidential problem the principal may read only redacted is left out:
    its stored vectors embed the hidden text, so its score would leak what it withholds."""
    condition, params = problem_read_filter(principal)
    full, more = problem_full_filter(principal)
    declined = rules.declined_problems_of(conn, expert["id"])
    problems = conn.execute(
        f"SELECT * FROM problems p WHERE {condition} AND {full} AND p.status = ANY(%s)"
        " ORDER BY p.approved_at DESC NULLS LAST, p.id DESC LIMIT %s",
        [*params, *more, list(statuses or PROBLEM_STATUSES), limit],
    ).fetchall()
    return [p for p in problems if p["id"] not in declined and not rules.conflicted(p, expert)]
