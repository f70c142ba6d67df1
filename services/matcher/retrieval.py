"""Candidates: texts of sources, and the records lexical + vector search finds for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from greenplat.core.achievements.models import published_sql
from greenplat.core.db import Connection
from greenplat.indexer.search import RRF_K, SearchFilters, SearchHit
from greenplat.matcher.explain import top_terms

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer

# Depths of the candidate searches: deep enough that re-ranking has room to work.
ACHIEVEMENT_DEPTH = 150
EXPERT_DEPTH = 75
MAX_EXPERT_CANDIDATES = 400
LEXICAL_TERMS = 12
# What matching reads of a candidate expert (rules, scoring, judging, the reasons and the
# record shown): a few hundred candidates per match, so not their extras and timestamps.
CANDIDATE_COLUMNS = (
    "id, external_id, name, organization, title, disciplines, keywords, bio, region, capacity"
)


def _join(*parts: Any) -> str:
    out = []
    for part in parts:
        if isinstance(part, list | tuple):
            part = "；".join(str(p) for p in part if p)
        if part and str(part).strip():
            out.append(str(part).strip())
    return "\n".join(out)


def problem_text(row: dict) -> str:
    """The words of a problem, as the index embeds them."""
    return _join(row.get("title"), row.get("keywords"), row.get("description"))


def achievement_text(row: dict) -> str:
    """The words of an achievement, as the index embeds them."""
    return _join(row.get("title"), row.get("keywords"), row.get("abstract"))


def expert_profile_text(row: dict) -> str:
    """The words of an expert profile (the name says nothing about expertise)."""
    return _join(row.get("title"), row.get("disciplines"), row.get("keywords"), row.get("bio"))


def expert_text(conn: Connection, row: dict, *, works: int = 20) -> str:
    """An expert's profile followed by the titles and keywords of their latest works."""
    rows = conn.execute(
        "SELECT title, keywords FROM achievements"
        f" WHERE expert_ids @> ARRAY[%s] AND {published_sql()}"
        " ORDER BY year DESC NULLS LAST, id DESC LIMIT %s",
        (row["external_id"], works),
    ).fetchall()
    return _join(expert_profile_text(row), *[_join(r["title"], r["keywords"]) for r in rows])


def record_text(library: str, row: dict) -> str:
    """The words of a record of any library."""
    if library == "problems":
        return problem_text(row)
    if library == "achievements":
        return achievement_text(row)
    return expert_profile_text(row)


def fused_relevance(hit: SearchHit, lists: float) -> float:
    """A search hit's fused rank score scaled to (0, 1]: 1 means first in every list.

    lists is the total weight of the lists fused (Indexer.fusion_weights).
    """
    return min(1.0, hit.score * (RRF_K + 1) / max(lists, 1.0))


def source_vectors(
    indexer: Indexer,
    conn: Connection,
    library: str,
    record_id: int | None,
    text: str,
    models: Sequence[str],
) -> dict[str, np.ndarray]:
    """Vectors of a source record (stored when indexed, else embedded now) per model."""
    vectors: dict[str, np.ndarray] = {}
    for model in models:
        stored = {}
        if record_id:
            stored = indexer.get_vectors(library, [record_id], conn=conn, model=model)
        if record_id in stored:
            vectors[model] = stored[record_id]
        else:
            vectors[model] = indexer.query_vector(text, model=model)
    return vectors


def candidate_experts(
    indexer: Indexer,
    conn: Connection,
    text: str,
    *,
    extra_filters: dict | None = None,
    translated: Sequence[str] = (),
) -> list[dict]:
    """Experts whose works or profile a search by meaning or by key terms finds for the text.

    The word search uses only the text's rarest terms: a long problem description as one OR
    query would match (and rank) most of a large library, for little gain in candidates.
    `translated`: an English text's Chinese words (Indexer.translated_query), searched by
    words and by meaning too, so the experts whose works are in Chinese are found.
    """
    filters = SearchFilters(**(extra_filters or {}))
    terms = " ".join(top_terms(text, LEXICAL_TERMS))
    # Each record found, at its best position in any of the lists that found it.
    works: dict[int, int] = {}
    profiles: dict[int, int] = {}
    other = " ".join(translated)
    # Words first: a query being embedded meanwhile (Indexer.prefetch_query) is then ready.
    searches = [("lexical", terms), ("lexical", other), ("vector", text), ("vector", other)]
    for mode, query in searches:
        if not query:
            continue
        for found, library, k, within in (
            (works, "achievements", ACHIEVEMENT_DEPTH, None),
            (profiles, "experts", EXPERT_DEPTH, filters),
        ):
            hits = indexer.search(library, conn=conn, text=query, filters=within, k=k, mode=mode)
            for position, hit in enumerate(hits):
                found[hit.record_id] = min(position, found.get(hit.record_id, position))
    # The profiles found and the authors of the works found (read where they are kept: the
    # index may not hold the latest), in one statement.
    rows = conn.execute(
        f"SELECT {CANDIDATE_COLUMNS} FROM experts WHERE id = ANY(%s) OR external_id = ANY("
        "ARRAY(SELECT unnest(expert_ids) FROM achievements WHERE id = ANY(%s)))",
        (list(profiles), list(works)),
    ).fetchall()
    if len(rows) <= MAX_EXPERT_CANDIDATES:
        return rows
    # More than are scored: those found nearest the top of a list are kept (a work's authors
    # at the work's position), ties by id, not whichever the statement returned first.
    best = {("id", expert): position for expert, position in profiles.items()}
    for row in conn.execute(
        "SELECT id, expert_ids FROM achievements WHERE id = ANY(%s)", (list(works),)
    ):
        for author in row["expert_ids"]:
            key = ("external_id", author)
            best[key] = min(works[row["id"]], best.get(key, works[row["id"]]))
    unfound = len(works) + len(profiles)

    def found_at(row: dict) -> tuple[int, int]:
        at = min(
            best.get(("id", row["id"]), unfound),
            best.get(("external_id", row["external_id"]), unfound),
        )
        return at, row["id"]

    return sorted(rows, key=found_at)[:MAX_EXPERT_CANDIDATES]
