"""What a reader sees of each match: the record, its score, its components, the reasons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from greenplat.core.achievements.models import published_sql
from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, sees_full_problem
from greenplat.core.problems.service import to_read as problem_to_read
from greenplat.matcher import affinity as aff
from greenplat.matcher import retrieval, scoring
from greenplat.matcher.models import MatchRead
from greenplat.matcher.reasons import Evidence, closest_works, explain, reader_language
from greenplat.matcher.scoring import Components, Signals


def expert_items(
    conn: Connection,
    problem: dict,
    principal: Principal,
    entries: Sequence[tuple[dict, aff.Affinity, Components, aff.ExpertEvidence]],
) -> list[MatchRead]:
    """Experts recommended for a problem (or a text), with the reasons: the works of the whole
    page read in one query (the open requests were read with the candidates)."""
    every = [wid for _, fit, _, _ in entries for wid, _ in fit.best_works]
    texts = _work_texts(conn, list(dict.fromkeys(every)))
    return [
        _expert_item(
            problem,
            principal,
            entry,
            {w: texts[w] for w, _ in entry[1].best_works if w in texts},
            entry[3].open_requests,
        )
        for entry in entries
    ]


def _expert_item(
    problem: dict,
    principal: Principal,
    entry: tuple[dict, aff.Affinity, Components, aff.ExpertEvidence],
    texts: dict[int, str],
    engaged: set[int],
) -> MatchRead:
    expert, fit, comps, ev = entry
    redacted = bool(problem.get("id")) and not sees_full_problem(principal, problem)
    titles = {w.id: w.title for w in ev.works}
    query = None if redacted else retrieval.problem_text(problem)
    best = [(titles[w], texts.get(w, ""), sim) for w, sim in fit.best_works if w in titles]
    evidence = Evidence(
        kind="expert",
        components=comps,
        query_text=query,
        candidate_texts=[retrieval.expert_profile_text(expert), *texts.values()],
        works=closest_works(query, best),
        name=expert["name"],
        fields=_shared_fields([problem.get("industry")], expert.get("disciplines") or []),
        region=expert.get("region"),
        load=(len(engaged), expert.get("capacity")),
        redacted=redacted,
    )
    record = {
        k: expert.get(k)
        for k in ("name", "organization", "title", "disciplines", "region", "capacity")
    }
    return MatchRead(
        library="experts",
        id=expert["id"],
        external_id=expert["external_id"],
        title=expert["name"],
        score=round(comps.score, 4),
        level=comps.level,
        **_reasons(evidence, problem.get("title")),
        components=components_dict(comps, fit.model),
        record=record,
    )


def problem_item(
    principal: Principal,
    problem: dict,
    comps: Components,
    *,
    fit: aff.Affinity | None = None,
    source_text: str | None = None,
    works: dict[int, dict] | None = None,
) -> MatchRead:
    """A recommended problem, as the reader may see it (redacted when confidential).

    With `fit` and `works` (the expert's inbox), the evidence is the expert's works that meet
    this problem: those sharing its telling terms, else the closest in meaning.
    """
    read = problem_to_read(problem, principal)
    text = _visible_text(problem, redacted=read.redacted, inbox=fit is not None)
    evidence = Evidence(
        kind="problem",
        components=comps,
        query_text=source_text,
        candidate_texts=[] if text is None else [text],
        fields=[problem["industry"]] if comps.signals.field == 1.0 else [],
        region=problem.get("region"),
        redacted=text is None,
        summary_only=read.redacted and text is not None,
    )
    if fit is not None and text is not None:
        sims = dict(fit.best_works)
        rows = (works or {}).values()
        candidates = [
            (r["title"], retrieval.achievement_text(r), sims.get(r["id"], 0.0)) for r in rows
        ]
        evidence.kind, evidence.query_text = "inbox", text
        evidence.candidate_texts = [c[1] for c in candidates]
        evidence.works = closest_works(text, candidates)
    record = read.model_dump(mode="json", exclude={"extra"})
    return MatchRead(
        library="problems",
        id=problem["id"],
        external_id=problem["external_id"],
        title=problem["title"],
        score=round(comps.score, 4),
        level=comps.level,
        **_reasons(evidence, source_text or problem.get("title")),
        components=components_dict(comps, fit.model if fit else None),
        record=record,
        redacted=read.redacted,
    )


def _visible_text(problem: dict, *, redacted: bool, inbox: bool) -> str | None:
    """The problem's words an explanation may use: all of them, or in a reader's inbox the
    summary a confidential problem was shown and judged by there; None: nothing."""
    if not redacted:
        return retrieval.problem_text(problem)
    return (problem.get("public_summary") or None) if inbox else None


def _reasons(evidence: Evidence, source: str | None) -> dict[str, Any]:
    """The reasons in every language, and `why` in the source's language."""
    reasons = explain(evidence)
    return {"reasons": reasons, "why": reasons[reader_language(source)]}


def expert_works(conn: Connection, expert: dict) -> dict[int, dict]:
    """The expert's achievements (id -> row), the evidence their inbox draws on."""
    rows = conn.execute(
        "SELECT id, title, keywords, abstract FROM achievements"
        f" WHERE expert_ids @> ARRAY[%s] AND {published_sql()} ORDER BY id",
        (expert["external_id"],),
    ).fetchall()
    return {row["id"]: row for row in rows}


def _work_texts(conn: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT id, title, keywords, abstract FROM achievements WHERE id = ANY(%s)", (ids,)
    ).fetchall()
    return {row["id"]: retrieval.achievement_text(row) for row in rows}


def _shared_fields(left: list[str | None], right: list[str | None]) -> list[str]:
    norm = {(v or "").strip().casefold() for v in left if v}
    return [v for v in right if v and v.strip().casefold() in norm]


def components_dict(c: Components, model: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"score": round(c.score, 4), "relevance": round(c.relevance, 4)}
    for name in ("works", "profile"):
        value = getattr(c, name)
        if value is not None:
            out[name] = round(value, 4)
    for name in ("lexical_rank", "vector_rank"):
        if getattr(c, name) is not None:
            out[name] = getattr(c, name)
    for name in ("field", "region", "recency"):
        value = getattr(c.signals, name)
        if value is not None:
            out[name] = round(value, 4)
    if c.probability is not None:
        out["probability"] = round(c.probability, 4)
    if model:
        out["model"] = model
    return out


def achievement_item(row: dict, comps: Components, text: str, source: dict) -> MatchRead:
    industry = source.get("industry")
    comps.signals = Signals(field=scoring.field_agreement([industry], [row.get("discipline")]))
    evidence = Evidence(
        kind="achievement",
        components=comps,
        query_text=text,
        candidate_texts=[retrieval.achievement_text(row)],
        fields=[row["discipline"]] if comps.signals.field == 1.0 else [],
    )
    record = {k: row.get(k) for k in ("kind", "discipline", "year", "organization", "expert_ids")}
    return MatchRead(
        library="achievements",
        id=row["id"],
        external_id=row["external_id"],
        title=row["title"],
        score=round(comps.score, 4),
        level=comps.level,
        **_reasons(evidence, text),
        components=components_dict(comps, None),
        record=record,
    )
