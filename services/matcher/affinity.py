"""Expert affinity from stored vectors: what an expert has done, and their profile.

Cosines of different models live on different scales (e5 puts unrelated texts near 0.75,
MiniLM near 0.05), so each model's cosine is standardised against how unrelated texts score
under it before scores of different models are compared or shown.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from psycopg.rows import tuple_row

from greenplat.core.achievements.models import published_sql
from greenplat.core.db import Connection
from greenplat.indexer.evidence import EVIDENCE_LIBRARIES, Generation
from greenplat.matcher import scoring

# (mean, standard deviation) of the cosine between unrelated passages, measured per model on
# scientific abstracts: e5-small 0.835 / 0.018 on 1,000 Chinese CSL papers and 0.834 / 0.021
# on English reviewer papers; MiniLM 0.25 / 0.15 within one English field (lower across
# fields). Unknown models use the neutral (0, 0.1).
CALIBRATION: dict[str, tuple[float, float]] = {
    "e5-small": (0.83, 0.02),
    "minilm": (0.15, 0.12),
    # all-mpnet-base-v2 measured like MiniLM on the English dev papers: 0.250 / 0.149 between
    # problems and papers of one field (MiniLM 0.250 / 0.146), so the same constants.
    "mpnet": (0.15, 0.12),
}
_DEFAULT_CALIBRATION = (0.0, 0.1)


def calibrate(model: str, cosine: float) -> float:
    """A cosine as a score in (0, 1): about 0.05 for a typical unrelated pair, 0.5 three
    standard deviations above it, near 1 for a close one."""
    mean, std = CALIBRATION.get(model, _DEFAULT_CALIBRATION)
    z = (cosine - mean) / std
    # Three standard deviations above unrelated is a good fit (0.5); the logistic keeps the
    # order and bounds the score.
    return 1.0 / (1.0 + math.exp(-(z - 3.0)))


def has_profile(expert: dict) -> bool:
    """Whether an expert's profile says anything about expertise (a bare title does not)."""
    return bool(expert.get("bio") or expert.get("keywords") or expert.get("disciplines"))


@dataclass
class Work:
    """One achievement of an expert."""

    id: int
    title: str
    discipline: str | None
    year: int | None


@dataclass
class ExpertEvidence:
    """The vectors an expert is judged by, per model; or, loaded against one query, only
    the cosines of those vectors with it (work_sims, profile_sims)."""

    expert: dict
    works: list[Work] = field(default_factory=list)
    work_vectors: dict[str, tuple[list[int], np.ndarray]] = field(default_factory=dict)
    profile: dict[str, np.ndarray] = field(default_factory=dict)
    work_sims: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    profile_sims: dict[str, float] = field(default_factory=dict)
    # The cosines the query's translation raised (load_evidence's `also`), per model:
    # work id -> the query's own cosine; the profile's likewise.
    translated_works: dict[str, dict[int, float]] = field(default_factory=dict)
    translated_profile: dict[str, float] = field(default_factory=dict)
    # The problems the expert has open requests for, read once with a match's candidates
    # (ranking.score_experts): their load re-ranks them and the reasons state it.
    open_requests: set[int] = field(default_factory=set)


@dataclass
class Affinity:
    """An expert's fit to one problem and how it was reached."""

    score: float
    model: str
    works: float | None
    profile: float | None
    best_works: list[tuple[int, float]]  # (achievement id, cosine), best first
    # When the query's translation raised the evidence's cosines, the query's own cosine with
    # its closest work or profile: the relevance bar judges the query, as it was fitted.
    untranslated: float | None = None


def load_works(
    conn: Connection, experts: Sequence[dict], kept: Generation | None = None
) -> dict[int, list[Work]]:
    """Achievements listing each expert among its authors; those `kept` in memory from
    there (Indexer.evidence), the rest read and kept."""
    authors = [row["external_id"] for row in experts]
    if kept is None:
        by_author = works_by_author(conn, authors)
    else:
        by_author = kept.works_of(authors, lambda missing: works_by_author(conn, missing))
    # Copies: kept lists outlive this match.
    return {row["id"]: list(by_author[row["external_id"]]) for row in experts}


def works_by_author(conn: Connection, authors: Sequence[str] | None) -> dict[str, list[Work]]:
    """Published achievements of each author (an expert's external id), by id; None: of
    every expert."""
    if authors is None:
        authors = [r["external_id"] for r in conn.execute("SELECT external_id FROM experts")]
        among = ""
        params: tuple = ()
    else:
        among, params = " AND expert_ids && %s::text[]", (list(authors),)
    # Plain tuples: a match reads the works of a few hundred candidates.
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT id, title, discipline, year, expert_ids FROM achievements"
            f" WHERE {published_sql()}{among} ORDER BY id",
            params,
        ).fetchall()
    out: dict[str, list[Work]] = {author: [] for author in authors}
    for work_id, title, discipline, year, expert_ids in rows:
        for author in expert_ids:
            if author in out:
                out[author].append(Work(work_id, title, discipline, year))
    return out


def keep_evidence(indexer, conn: Connection) -> int:
    """Load every expert's works and the stored vectors of works and profiles into the
    memory matches score from (Indexer.evidence), up to its size; returns the vectors kept."""
    kept = indexer.evidence.generation(conn) if indexer.evidence else None
    if kept is None:
        return 0
    version = kept.version
    kept.keep_works(works_by_author(conn, None), version)
    for library in EVIDENCE_LIBRARIES:
        for model in indexer.models:
            ids = sorted(indexer.backend.vector_ids(conn, library, model))
            for start in range(0, len(ids), KEEP_BATCH):
                batch = ids[start : start + KEEP_BATCH]
                vectors = indexer.get_vectors(library, batch, conn=conn, model=model)
                if not kept.keep(library, model, batch, vectors, version):
                    return kept.kept
    return kept.kept


# Vectors read per statement when all are loaded (keep_evidence).
KEEP_BATCH = 20_000
Similarities = Callable[[str, list[int], np.ndarray, str], dict[int, float]]


def load_evidence(
    indexer,
    conn: Connection,
    experts: Sequence[dict],
    models: Sequence[str],
    *,
    query: dict[str, np.ndarray] | None = None,
    also: dict[str, np.ndarray] | None = None,
) -> dict[int, ExpertEvidence]:
    """Works and profile vectors of these experts for the given models; with `query` (a
    vector per model), their cosines with it instead; with `also` (a second vector for some
    models: the query's translation), each work and profile keeps the higher of its two
    cosines. Cosines come from the works and vectors the process keeps in memory
    (Indexer.evidence) when it may use them, else from where the vectors are stored."""
    kept = indexer.evidence.generation(conn) if query is not None and indexer.evidence else None
    works = load_works(conn, experts, kept)
    evidence = {row["id"]: ExpertEvidence(row, works.get(row["id"], [])) for row in experts}
    work_ids = sorted({w.id for ws in works.values() for w in ws})
    profiled = [row["id"] for row in experts if has_profile(row)]
    if query is not None:
        similarities = _similarities(indexer, conn, kept)
        _load_similarities(similarities, evidence, work_ids, profiled, query, also or {})
        return evidence
    for model in models:
        stored = indexer.get_vectors("achievements", work_ids, conn=conn, model=model)
        profiles = indexer.get_vectors("experts", profiled, conn=conn, model=model)
        for expert_id, ev in evidence.items():
            ids = [w.id for w in ev.works if w.id in stored]
            if ids:
                ev.work_vectors[model] = (ids, np.stack([stored[i] for i in ids]))
            if expert_id in profiles:
                ev.profile[model] = profiles[expert_id]
    return evidence


def _similarities(indexer, conn: Connection, kept: Generation | None) -> Similarities:
    """(library, ids, vector, model) -> cosines: from memory, or computed where vectors are."""
    if kept is None:
        return lambda library, ids, vector, model: indexer.similarities(
            library, ids, vector, conn=conn, model=model
        )
    return lambda library, ids, vector, model: kept.cosines(
        library,
        model,
        ids,
        vector,
        lambda missing: indexer.get_vectors(library, missing, conn=conn, model=model),
    )


def _load_similarities(
    similarities: Similarities,
    evidence: dict[int, ExpertEvidence],
    work_ids: list[int],
    profiled: list[int],
    query: dict[str, np.ndarray],
    also: dict[str, np.ndarray],
) -> None:
    for model, vector in query.items():
        works = similarities("achievements", work_ids, vector, model)
        profiles = similarities("experts", profiled, vector, model)
        closer: dict[str, dict[int, float]] = {"achievements": {}, "experts": {}}
        if model in also:
            for found, library, ids in (
                (works, "achievements", work_ids),
                (profiles, "experts", profiled),
            ):
                more = similarities(library, ids, also[model], model)
                for record_id, cosine in more.items():
                    own = found.get(record_id)
                    if own is not None and cosine > own:
                        found[record_id] = cosine
                        closer[library][record_id] = own
        # float32, as the vectors are: one conversion for all, not one array per expert.
        cosines = np.array(list(works.values()), dtype=np.float32).tolist()
        rounded = dict(zip(works, cosines, strict=True))
        for expert_id, ev in evidence.items():
            ids = [w.id for w in ev.works if w.id in rounded]
            if ids:
                ev.work_sims[model] = (ids, [rounded[i] for i in ids])
            if expert_id in profiles:
                ev.profile_sims[model] = profiles[expert_id]
            raised = {i: closer["achievements"][i] for i in ids if i in closer["achievements"]}
            if raised:
                ev.translated_works[model] = raised
            if expert_id in closer["experts"]:
                ev.translated_profile[model] = closer["experts"][expert_id]


def _cosines(
    query: np.ndarray | None, model: str, ev: ExpertEvidence
) -> tuple[tuple[list[int], np.ndarray | list[float]] | None, float | None]:
    """(work ids, their cosines) and the profile's cosine with the query under one model."""
    if model in ev.work_sims or model in ev.profile_sims:
        return ev.work_sims.get(model), ev.profile_sims.get(model)
    if query is None:
        return None, None
    works = None
    if model in ev.work_vectors:
        ids, matrix = ev.work_vectors[model]
        works = (ids, matrix @ query)
    profile = float(ev.profile[model] @ query) if model in ev.profile else None
    return works, profile


def score_expert(
    problem_vectors: dict[str, np.ndarray], models: Sequence[str], ev: ExpertEvidence
) -> Affinity | None:
    """Affinity under the first model (in preference order) both sides have vectors for.

    One model decides, not a blend: blends of MiniLM with mpnet, e5 or TF-IDF, weighted by
    cross-validation, scored no better on the English dev sets (docs/evaluation.md)."""
    for model in models:
        query = problem_vectors.get(model)
        if query is None:
            continue
        found, profile = _cosines(query, model, ev)
        if found is None and profile is None:
            continue
        works = None
        best: list[tuple[int, float]] = []
        if found is not None:
            ids, sims = found
            values = sims if isinstance(sims, list) else sims.tolist()
            order, works = scoring.top_works(values)
            best = [(ids[i], values[i]) for i in order]
        cosine = scoring.expert_affinity(works, profile)
        assert cosine is not None
        untranslated = None
        raised = ev.translated_works.get(model, {})
        if raised or model in ev.translated_profile:
            own = [raised.get(i, sim) for i, sim in best[:1]]
            if profile is not None:
                own.append(ev.translated_profile.get(model, profile))
            untranslated = max(own)
        return Affinity(calibrate(model, cosine), model, works, profile, best, untranslated)
    return None


def preferred_models(query_models: Sequence[str]) -> list[str]:
    """Language-specific models first (they read their language best), the primary last."""
    return [*query_models[1:], *query_models[:1]]


def expert_components(
    problem: dict, fit: Affinity, ev: ExpertEvidence, *, year: int | None = None
) -> scoring.Components:
    """The expert's affinity re-ranked by field, region, recency and the expert's load (their
    evidence's open requests). `year`: this year, when the caller scores many experts."""
    expert = ev.expert
    labels = list(expert.get("disciplines") or ())
    latest = None
    for work in ev.works:  # a loop, not two generators: hundreds of candidates per match
        labels.append(work.discipline)
        if work.year and (latest is None or work.year > latest):
            latest = work.year
    signals = scoring.Signals(
        scoring.field_agreement([problem.get("industry")], labels),
        scoring.region_agreement(problem.get("region"), expert.get("region")),
        scoring.recency(latest, year or dt.date.today().year),
        scoring.availability(len(ev.open_requests), expert.get("capacity")),
    )
    comps = scoring.Components(
        relevance=fit.score, works=fit.works, profile=fit.profile, signals=signals
    )
    comps.score = scoring.rerank(fit.score, signals)
    return comps
