"""Search of a library by text: free text before posting, and the record-to-library directions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput
from greenplat.core.permissions import Principal
from greenplat.indexer.search import SearchFilters
from greenplat.matcher import items as present
from greenplat.matcher import ranking, records, retrieval, rules
from greenplat.matcher.models import MatchPage, MatchRead
from greenplat.matcher.scoring import Components

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer

MAX_RESULTS = 1000


def search(
    indexer: Indexer,
    text: str,
    library: str,
    *,
    conn: Connection,
    principal: Principal,
    page: int = 1,
    page_size: int = 20,
    mode: str = "hybrid",
    region: str | None = None,
    industry: str | None = None,
    discipline: str | None = None,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
) -> MatchPage:
    """Free text against any library (search before posting)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请输入检索内容 / text is empty", field="text")
    if library == "experts":
        items, more = _text_experts(
            indexer, text, conn, principal, page, page_size, region=region, discipline=discipline
        )
    else:
        filters = {
            "region": region,
            "industry": industry,
            "discipline": discipline,
            "status": statuses,
        }
        items, more = search_items(
            indexer,
            library,
            text,
            conn=conn,
            principal=principal,
            page=page,
            page_size=page_size,
            mode=mode,
            source={},
            filters=filters,
        )
    return MatchPage(
        direction="search",
        source={"text": text, "library": library},
        items=items,
        page=page,
        page_size=page_size,
        has_more=more,
    )


def _text_experts(
    indexer: Indexer,
    text: str,
    conn: Connection,
    principal: Principal,
    page: int,
    page_size: int,
    *,
    region: str | None,
    discipline: str | None,
) -> tuple[list[MatchRead], bool]:
    ranked = ranking.rank_experts(
        indexer,
        conn,
        {"title": text},
        text=text,
        region=region,
        discipline=discipline,
        vectors=query_vectors(indexer, text),
    )
    window, more = records.window(ranked, page, page_size)
    items = [present.expert_item(conn, {"title": text}, principal, *e) for e in window]
    return items, more


def query_vectors(indexer: Indexer, text: str) -> dict[str, np.ndarray]:
    """The query embedding of a text under each model that reads it."""
    return {m: indexer.query_vector(text, model=m) for m in indexer.query_models(text)}


def search_items(
    indexer: Indexer,
    library: str,
    text: str,
    *,
    conn: Connection,
    principal: Principal,
    page: int,
    page_size: int,
    mode: str,
    source: dict,
    filters: dict,
) -> tuple[list[MatchRead], bool]:
    """One page of a library's records for a text, as match items, and whether more follow."""
    hits = retrieve(
        indexer,
        library,
        text,
        conn=conn,
        principal=principal,
        k=page * page_size + 1,
        mode=mode,
        filters=filters,
    )
    window, more = records.window(hits, page, page_size)
    rows = records.by_ids(conn, library, [h.record_id for h, _ in window])
    items = []
    for hit, comps in window:
        row = rows.get(hit.record_id)
        if row is None:
            continue
        if library == "problems":
            items.append(present.problem_item(principal, row, comps, source_text=text))
        else:
            items.append(present.achievement_item(row, comps, text, source))
    return items, more


def retrieve(
    indexer: Indexer,
    library: str,
    text: str,
    *,
    conn: Connection,
    principal: Principal,
    k: int = 20,
    mode: str = "hybrid",
    filters: dict | None = None,
) -> list[tuple[Any, Components]]:
    """Hybrid (or lexical / vector) search of a library, scored and ranked."""
    filters = {"status": rules.MATCHABLE_STATUSES, **(filters or {})}
    clean = {key: v for key, v in filters.items() if v}
    if library == "problems":
        clean["principal"] = principal
    else:
        clean.pop("status", None)
    if not 1 <= k <= MAX_RESULTS:
        raise InvalidInput(f"k must be 1..{MAX_RESULTS}", field="k")
    hits = indexer.search(
        library, conn=conn, text=text, filters=SearchFilters(**clean), k=k, mode=mode
    )
    models = len(indexer.query_models(text)) if mode != "lexical" else 0
    lists = (mode != "vector") + models
    out = []
    for hit in hits:
        relevance = retrieval.fused_relevance(hit, lists) if mode == "hybrid" else hit.score
        comps = Components(
            relevance=relevance,
            lexical_rank=hit.lexical_rank,
            vector_rank=hit.vector_rank,
            score=relevance,
        )
        out.append((hit, comps))
    return out
