"""Search of a library by text: free text before posting, and the record-to-library directions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput
from greenplat.core.permissions import Principal
from greenplat.indexer.search import SearchFilters
from greenplat.matcher import items as present
from greenplat.matcher import judging, ranking, records, retrieval, rules
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
    kind: str | None = None,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
    bar: bool = True,
) -> MatchPage:
    """Free text against any library (search before posting); bar=False lifts the bar."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请输入检索内容 / text is empty", field="text")
    if library == "experts":
        items, more = _text_experts(
            indexer,
            text,
            conn,
            principal,
            page,
            page_size,
            region=region,
            discipline=discipline,
            bar=bar,
        )
    else:
        filters = {
            "region": region,
            "industry": industry,
            "discipline": discipline,
            "kind": kind,
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
            bar=bar,
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
    bar: bool,
) -> tuple[list[MatchRead], bool]:
    # The query embeds while the word searches run; the vector searches then wait for it.
    indexer.prefetch_query(text)
    ranked = ranking.rank_experts(
        indexer,
        conn,
        {"title": text},
        text=text,
        region=region,
        discipline=discipline,
        bar=bar,
        want=page * page_size + 1,
    )
    window, more = records.window(ranked, page, page_size)
    items = present.expert_items(conn, {"title": text}, principal, window)
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
    bar: bool = True,
    record: tuple[str, int] | None = None,
) -> tuple[list[MatchRead], bool]:
    """One page of a library's records for a text, as match items, and whether more follow.

    The bar thins the ranking out, so the search goes deeper (up to MAX_RESULTS) until the
    page and one more passing record are found, or matches stop turning up. With `record`
    (library, id), the text is that stored record's and the hits are judged against it as
    records (judging.judge_hits).
    """
    want = page * page_size + 1
    depth = min(MAX_RESULTS, max(2 * want, 20))
    while True:
        found = retrieve(
            indexer,
            library,
            text,
            conn=conn,
            principal=principal,
            k=depth,
            mode=mode,
            filters=filters,
            bar=False,
            record=record,
        )
        passing = [n for n, h in enumerate(found) if not bar or h[1].level is not None]
        hits = [found[n] for n in passing if not rules.own_work(source, found[n][2])]
        exhausted = len(found) < depth or depth >= MAX_RESULTS
        # Matches thin out down the ranking: none in its lower half, none further down.
        thinned = not passing or passing[-1] < depth // 2
        if len(hits) >= want or exhausted or thinned:
            break
        depth = min(MAX_RESULTS, 4 * depth)
    window, more = records.window(hits, page, page_size)
    items = []
    for _, comps, row in window:
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
    bar: bool = True,
    record: tuple[str, int] | None = None,
) -> list[tuple[Any, Components, dict]]:
    """Hybrid (or lexical / vector) search of a library, scored, judged and ranked.

    Each hit comes with its components (the calibrated probability and level included) and
    its row; with the bar on, hits below it are left out. `record`: see search_items.
    """
    filters = {"status": rules.MATCHABLE_STATUSES, **(filters or {})}
    clean = {key: v for key, v in filters.items() if v}
    if library == "problems":
        clean["principal"] = principal
    else:
        clean.pop("status", None)
    if not 1 <= k <= MAX_RESULTS:
        raise InvalidInput(f"k must be 1..{MAX_RESULTS}", field="k")
    search_filters = SearchFilters(**clean)
    # Counted once for the search (its translated words) and the judging (their coverage),
    # when either uses them.
    uses = mode == "hybrid" or record is None
    held = indexer.held_counts(conn, library, text, search_filters) if uses else None
    hits = indexer.search(
        library, conn=conn, text=text, filters=search_filters, k=k, mode=mode, held=held
    )
    # The translated lists only add evidence from the other language: a record first in
    # every list of the query's own language is a full match.
    weights = indexer.fusion_weights(text, mode)
    lists = sum(w for leg, w in weights.items() if not leg.startswith("translated"))
    rows = records.by_ids(
        conn,
        library,
        [hit.record_id for hit in hits],
        indexed=True,
        reader=principal,
        statuses=clean.get("status"),
    )
    verdicts = judging.judge_hits(
        indexer, conn, library, text, hits, rows, record=record, held=held
    )
    out = []
    for hit in hits:
        verdict = verdicts[hit.record_id]
        if hit.record_id not in rows or (bar and not verdict.passes):
            continue
        relevance_ = retrieval.fused_relevance(hit, lists) if mode == "hybrid" else hit.score
        comps = Components(
            relevance=relevance_,
            lexical_rank=hit.lexical_rank,
            vector_rank=hit.vector_rank,
            score=relevance_,
            probability=verdict.probability,
            level=verdict.level,
        )
        out.append((hit, comps, rows[hit.record_id]))
    return out
