"""The relevance bar applied: each direction's candidates judged by their calibrated fit."""

from __future__ import annotations

from collections.abc import Sequence

from greenplat.core.db import Connection
from greenplat.matcher import relevance, retrieval
from greenplat.matcher.affinity import Affinity
from greenplat.matcher.relevance import Direction, Verdict


def judge_hits(
    indexer,
    conn: Connection,
    library: str,
    text: str,
    hits: list,
    rows: dict[int, dict],
    *,
    record: tuple[str, int] | None = None,
    held: dict[str, int] | None = None,
) -> dict[int, Verdict]:
    """Search hits judged under the primary model (it embeds every record).

    A text is judged as a query ("search"); with `record` (library, id), the stored record
    whose text this is, the hits are judged as records against it ("record": both sides the
    stored passages), as an expert's works are judged against a problem.
    """
    model = indexer.models[0]
    source = _record_vector(indexer, conn, record, model) if record else None
    direction: Direction = "search" if source is None else "record"
    query = indexer.query_vector(text, model=model) if source is None else source
    # A record's cosine is to the stored passage, so a query's search scores do not apply.
    missing = [h.record_id for h in hits if source is not None or model not in h.vector_scores]
    stored = indexer.get_vectors(library, missing, conn=conn, model=model) if missing else {}
    cross_language = indexer.cross_language
    # A query's shared words across languages: also the translations its search chose
    # (held: Indexer.held_counts within the search's filters, records the reader may see).
    terms = relevance.Terms(
        text,
        parts=direction == "search",
        translate=cross_language,
        held=held if direction == "search" else None,
    )
    gap = relevance.language_gap(model, direction) if cross_language else 0.0
    out = {}
    for hit in hits:
        cosine = None if source is not None else hit.vector_scores.get(model)
        if cosine is None:
            vector = stored.get(hit.record_id)
            cosine = float(vector @ query) if vector is not None else 0.0
        candidate = retrieval.record_text(library, rows.get(hit.record_id) or {})
        coverage = terms.coverage([candidate])
        if gap and relevance.crosses(text, [candidate]):
            # Cosines across languages run lower for the same closeness: put them on the
            # scale the bar was fitted on.
            cosine += gap
        out[hit.record_id] = relevance.judge(model, direction, cosine, coverage)
    return out


def _record_vector(indexer, conn: Connection, record: tuple[str, int], model: str):
    """A stored record's vector under the model; None while it waits to be indexed."""
    library, record_id = record
    return indexer.get_vectors(library, [record_id], conn=conn, model=model).get(record_id)


def best_cosine(fit: Affinity) -> float:
    """The closest single piece of an expert's evidence to the query itself: one work or the
    profile (Affinity.untranslated when a translation of the query raised it)."""
    if fit.untranslated is not None:
        return fit.untranslated
    values = [sim for _, sim in fit.best_works[:1]]
    if fit.profile is not None:
        values.append(fit.profile)
    return max(values, default=0.0)


def judge_fits(
    conn: Connection,
    fits: Sequence[tuple[Affinity, dict, str]],
    direction: Direction,
    *,
    held: dict[str, int] | None = None,
) -> list[Verdict]:
    """(affinity, expert, problem text) judged by the expert's closest work or profile.

    The term coverage costs a word segmentation per work, so pairs whose cosine misses the
    bar even with every term shared skip it (their probability is then the lower bound).
    held (an English query's Chinese words the works hold, Indexer.held_counts) counts
    those words as shared.
    """
    pending: dict[int, tuple[Affinity, dict, str]] = {}
    out: list[Verdict | None] = []
    for n, (fit, expert, text) in enumerate(fits):
        # The evidence may be in the other language: only a miss even after the gap is sure.
        gap = relevance.language_gap(fit.model, direction)
        below = relevance.surely_below(fit.model, direction, best_cosine(fit) + gap)
        out.append(below)
        if below is None:
            pending[n] = (fit, expert, text)
    works = _work_texts(conn, [f.best_works[0][0] for f, _, _ in pending.values() if f.best_works])
    terms: dict[str, relevance.Terms] = {}
    for n, (fit, expert, text) in pending.items():
        texts = [retrieval.expert_profile_text(expert)]
        texts += [works.get(w, "") for w, _ in fit.best_works[:1]]
        if text not in terms:  # once per text: building it segments and translates the text
            terms[text] = relevance.Terms(text, parts=direction == "search", held=held)
        source = terms[text]
        coverage = source.coverage(texts)
        cosine = best_cosine(fit)
        if relevance.crosses(text, texts):
            cosine += relevance.language_gap(fit.model, direction)
        out[n] = relevance.judge(fit.model, direction, cosine, coverage)
    return [v for v in out if v is not None]


def _work_texts(conn: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT id, title, keywords, abstract FROM achievements WHERE id = ANY(%s)", (ids,)
    ).fetchall()
    return {row["id"]: retrieval.achievement_text(row) for row in rows}
