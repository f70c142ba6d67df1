"""What a reader sees of each match: the record, its score, its components, the reasons."""

from __future__ import annotations

from typing import Any

from greenplat.core.db import Connection
from greenplat.core.permissions import Principal, sees_full_problem
from greenplat.core.problems.service import to_read as problem_to_read
from greenplat.matcher import affinity as aff
from greenplat.matcher import retrieval, rules, scoring
from greenplat.matcher.explain import Evidence, explain
from greenplat.matcher.models import MatchRead
from greenplat.matcher.scoring import Components, Signals


def expert_item(
    conn: Connection,
    problem: dict,
    principal: Principal,
    expert: dict,
    fit: aff.Affinity,
    comps: Components,
    ev: aff.ExpertEvidence,
) -> MatchRead:
    """An expert recommended for a problem (or a text), with the reasons."""
    redacted = bool(problem.get("id")) and not sees_full_problem(principal, problem)
    works = _work_texts(conn, [wid for wid, _ in fit.best_works])
    titles = {w.id: w.title for w in ev.works}
    engaged = rules.open_requests(conn, [expert["id"]]).get(expert["id"], set())
    evidence = Evidence(
        components=comps,
        query_text=None if redacted else retrieval.problem_text(problem),
        candidate_texts=[retrieval.expert_profile_text(expert), *works.values()],
        works=[(titles[wid], sim) for wid, sim in fit.best_works if wid in titles],
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
        why=explain(evidence),
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
    """A recommended problem, as the reader may see it (redacted when confidential)."""
    read = problem_to_read(problem, principal)
    evidence = Evidence(
        components=comps,
        query_text=source_text,
        candidate_texts=[] if read.redacted else [retrieval.problem_text(problem)],
        fields=[problem["industry"]] if comps.signals.field == 1.0 else [],
        region=problem.get("region"),
        redacted=read.redacted,
    )
    if fit is not None and not read.redacted:
        # The expert's inbox: the problem against the expert's closest works.
        known = works or {}
        best = [(known[w], sim) for w, sim in fit.best_works if w in known]
        evidence.query_text = retrieval.problem_text(problem)
        evidence.candidate_texts = [retrieval.achievement_text(row) for row, _ in best]
        evidence.works = [(row["title"], sim) for row, sim in best]
    record = read.model_dump(mode="json", exclude={"extra"})
    return MatchRead(
        library="problems",
        id=problem["id"],
        external_id=problem["external_id"],
        title=problem["title"],
        score=round(comps.score, 4),
        why=explain(evidence),
        components=components_dict(comps, fit.model if fit else None),
        record=record,
        redacted=read.redacted,
    )


def work_rows(conn: Connection, ids: list[int]) -> dict[int, dict]:
    rows = conn.execute(
        "SELECT id, title, keywords, abstract FROM achievements WHERE id = ANY(%s)", (ids,)
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
    if model:
        out["model"] = model
    return out


def achievement_item(row: dict, comps: Components, text: str, source: dict) -> MatchRead:
    industry = source.get("industry")
    comps.signals = Signals(field=scoring.field_agreement([industry], [row.get("discipline")]))
    evidence = Evidence(
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
        why=explain(evidence),
        components=components_dict(comps, None),
        record=record,
    )
