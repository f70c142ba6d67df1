"""An expert's inbox candidates from the index: problems their works and profile find.

Each of the expert's works (and the profile) searches the problems by meaning, and the
expert's most telling terms search them by words; only the union is scored. The inbox so
ranks the same whether 100 or 100,000 problems are approved, old ones included.
"""

from __future__ import annotations

from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, problem_read_filter
from greenplat.core.problems.models import PROBLEM_STATUSES
from greenplat.indexer.analysis import terms as index_terms
from greenplat.indexer.search import SearchFilters
from greenplat.matcher import retrieval, rules
from greenplat.matcher.affinity import ExpertEvidence
from greenplat.matcher.explain import top_terms

# Problems each query of the expert brings: the inbox shows the best few pages of them.
DEPTH_PER_QUERY = 40
# An expert's latest works stand for them; more add searches but rarely new candidates.
QUERY_WORKS = 8
LEXICAL_TERMS = 12


def candidate_ids(
    indexer,
    conn: Connection,
    ev: ExpertEvidence,
    *,
    statuses: rules.Statuses,
    region: str | None = None,
    industry: str | None = None,
) -> list[int]:
    """Problems found for the expert's works and profile (by meaning) and terms (by words)."""
    filters = SearchFilters(
        status=statuses,
        region=None if region is None else (region,),
        industry=None if industry is None else (industry,),
    )
    backend, found = indexer.backend, []
    for model, (_, matrix) in ev.work_vectors.items():
        queries = [*matrix[-QUERY_WORKS:]]
        if model in ev.profile:
            queries.append(ev.profile[model])
        for vector in queries:
            hits = backend.search_vector(conn, "problems", model, vector, filters, DEPTH_PER_QUERY)
            found += [hit.record_id for hit in hits]
    for model, vector in ev.profile.items():
        if model not in ev.work_vectors:
            hits = backend.search_vector(conn, "problems", model, vector, filters, DEPTH_PER_QUERY)
            found += [hit.record_id for hit in hits]
    text = " ".join([retrieval.expert_profile_text(ev.expert), *(w.title for w in ev.works)])
    words = index_terms(" ".join(top_terms(text, LEXICAL_TERMS)))
    if words:
        hits = backend.search_lexical(conn, "problems", words, filters, 2 * DEPTH_PER_QUERY)
        found += [hit.record_id for hit in hits]
    return list(dict.fromkeys(found))


def readable_problems(
    conn: Connection,
    expert: dict,
    ids: list[int],
    *,
    principal: Principal,
    statuses: rules.Statuses,
) -> list[dict]:
    """These problems as far as the principal may read them, less declined and conflicted
    ones and confidential ones without a summary for experts."""
    condition, params = problem_read_filter(principal)
    declined = rules.declined_problems_of(conn, expert["id"])
    problems = conn.execute(
        f"SELECT * FROM problems p WHERE {condition} AND p.id = ANY(%s) AND p.status = ANY(%s)",
        [*params, ids, list(statuses or PROBLEM_STATUSES)],
    ).fetchall()
    return [
        p
        for p in problems
        if p["id"] not in declined
        and not rules.conflicted(p, expert)
        and rules.shown_in_inbox(principal, p)
    ]
