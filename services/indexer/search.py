"""Search requests and results shared by every backend: filters, hits, rank fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from greenplat.core.permissions import Clause, Principal, clauses, full_problem_clauses

Mode = Literal["hybrid", "lexical", "vector"]
MODES: tuple[str, ...] = ("hybrid", "lexical", "vector")
# Reciprocal rank fusion constant (Cormack et al.): ranks, not raw scores, are combined, so
# a lexical score and cosines of two different models can be fused fairly.
RRF_K = 60


def _tuple(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class SearchFilters:
    """Conditions applied inside the search (a record failing one is never a candidate).

    Each list means "any of". principal limits problems to those the principal may read, and
    a confidential problem to principals who may read it in full: matching its hidden text
    would otherwise reveal what the redaction withholds. include_confidential=False drops
    confidential problems for everyone (e.g. public pages).
    """

    region: tuple[str, ...] | None = None
    industry: tuple[str, ...] | None = None
    discipline: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    kind: tuple[str, ...] | None = None
    include_confidential: bool = True
    principal: Principal | None = None
    exclude_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("region", "industry", "discipline", "status", "kind"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        object.__setattr__(self, "exclude_ids", tuple(int(i) for i in self.exclude_ids))


@dataclass(frozen=True)
class Visibility:
    """Problem visibility as two disjunctions: which may be read, which may be read in full."""

    readable: tuple[Clause, ...]
    full: tuple[Clause, ...]


def problem_visibility(principal: Principal) -> Visibility:
    """The permission module's problem.read conditions, on the indexed fields of the same name."""
    return Visibility(clauses(principal, "problem", "read"), full_problem_clauses(principal))


@dataclass
class SearchHit:
    """One record found; scores and ranks of each retriever that found it (rank 1 = best)."""

    library: str
    record_id: int
    external_id: str
    score: float
    lexical_score: float | None = None
    vector_score: float | None = None
    lexical_rank: int | None = None
    vector_rank: int | None = None
    vector_scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A backend's raw result: record, external id, score (higher is better)."""

    record_id: int
    external_id: str
    score: float


def fuse(
    library: str,
    lexical: list[Candidate] | None,
    vectors: dict[str, list[Candidate]],
    *,
    mode: Mode,
    k: int,
    translated: list[Candidate] | None = None,
    translated_vector: list[Candidate] | None = None,
    weights: dict[str, float] | None = None,
) -> list[SearchHit]:
    """Combine ranked lists into hits: RRF for hybrid (and multi-model vector), else raw score.

    weights scales a list's share of the fusion ("lexical", "translated",
    "translated_vector" or a model key; 1 when absent); translated is the lexical search by
    the query's words in the other language, which ranks as a lexical list of its own;
    translated_vector the primary model's search by those words, which only votes (its
    cosines are not the query's, so the hit's vector scores stay those of the query).
    """
    weights = weights or {}
    hits: dict[int, SearchHit] = {}

    def hit(c: Candidate) -> SearchHit:
        if c.record_id not in hits:  # setdefault would build a hit for every candidate
            hits[c.record_id] = SearchHit(library, c.record_id, c.external_id, 0.0)
        return hits[c.record_id]

    rrf: dict[int, float] = {}

    def vote(c: Candidate, rank: int, leg: str) -> None:
        rrf[c.record_id] = rrf.get(c.record_id, 0.0) + weights.get(leg, 1.0) / (RRF_K + rank)

    for rank, c in enumerate(lexical or [], start=1):
        h = hit(c)
        h.lexical_score, h.lexical_rank = c.score, rank
        vote(c, rank, "lexical")
    for rank, c in enumerate(translated or [], start=1):
        h = hit(c)
        if h.lexical_rank is None or rank < h.lexical_rank:
            h.lexical_score, h.lexical_rank = c.score, rank
        vote(c, rank, "translated")
    for rank, c in enumerate(translated_vector or [], start=1):
        hit(c)
        vote(c, rank, "translated_vector")
    for model, ranked in vectors.items():
        for rank, c in enumerate(ranked, start=1):
            h = hit(c)
            h.vector_scores[model] = c.score
            if h.vector_rank is None or rank < h.vector_rank:
                h.vector_rank, h.vector_score = rank, c.score
            vote(c, rank, model)
    for record_id, h in hits.items():
        if mode == "lexical":
            h.score = h.lexical_score or 0.0
        elif mode == "vector" and len(vectors) == 1:
            h.score = h.vector_score or 0.0
        else:
            h.score = rrf[record_id]
    return sorted(hits.values(), key=lambda h: (-h.score, h.record_id))[:k]
