"""The matcher's public interface: every matching direction, affinity, assignment, evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg

from greenplat.core.db import Database
from greenplat.core.errors import Forbidden, InvalidInput, NotFound
from greenplat.core.permissions import SYSTEM, Principal, allows
from greenplat.core.problems.models import PROBLEM_STATUSES
from greenplat.core.problems.service import to_read as problem_to_read
from greenplat.core.settings import Settings
from greenplat.indexer.search import SearchFilters
from greenplat.matcher import affinity as aff
from greenplat.matcher import items as present
from greenplat.matcher import retrieval, rules, scoring
from greenplat.matcher.models import AssignResult, MatchPage, MatchRead
from greenplat.matcher.scoring import Components, Signals

MAX_RESULTS = 1000
# Problem statuses a direction considers; None means every status (the offline commands act
# as a platform admin, who sees every record whatever its status).
Statuses = tuple[str, ...] | None
_TABLES = {"problems": "问题", "achievements": "成果", "experts": "专家"}


class Matcher:
    """Recommends experts and achievements for problems, problems for experts and achievements."""

    def __init__(self, settings: Settings, db: Database, indexer) -> None:
        self.settings = settings
        self.db = db
        self.indexer = indexer

    # records -----------------------------------------------------------------------------

    @staticmethod
    def _row(conn: psycopg.Connection, library: str, record_id: int) -> dict[str, Any]:
        row = conn.execute(f"SELECT * FROM {library} WHERE id = %s", (record_id,)).fetchone()
        if row is None:
            name = _TABLES[library]
            raise NotFound(f"{name} {record_id} 不存在 / {library[:-1]} {record_id} not found")
        return row

    def resolve(self, library: str, external_id: str) -> int:
        """The id of the record with this external_id, or NotFound."""
        with self.db.session() as conn:
            row = conn.execute(
                f"SELECT id FROM {library} WHERE external_id = %s", (external_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"{library[:-1]} {external_id!r} not found", field="external_id")
        return row["id"]

    # problem -> experts ------------------------------------------------------------------

    def problem_experts(
        self,
        problem_id: int,
        *,
        principal: Principal = SYSTEM,
        page: int = 1,
        page_size: int = 20,
        region: str | None = None,
        discipline: str | None = None,
        statuses: Statuses = rules.MATCHABLE_STATUSES,
    ) -> MatchPage:
        """Experts for a problem, best first: what they did and their profile, after the rules."""
        with self.db.session() as conn:
            problem = self._row(conn, "problems", problem_id)
            self._require_match(principal, problem, statuses)
            ranked = self.rank_experts(conn, problem, region=region, discipline=discipline)
            window, more = _window(ranked, page, page_size)
            items = [present.expert_item(conn, problem, principal, *entry) for entry in window]
        source = problem_to_read(problem, principal).model_dump(mode="json")
        return MatchPage(
            direction="problem_experts",
            source=source,
            items=items,
            page=page,
            page_size=page_size,
            has_more=more,
        )

    def _require_match(self, principal: Principal, problem: dict, statuses: Statuses) -> None:
        if not allows(principal, "problem", "read", problem):
            raise NotFound(f"需求 {problem['id']} 不存在 / problem {problem['id']} not found")
        if not allows(principal, "problem", "match", problem):
            raise Forbidden("只有需求方和管理员可查看匹配 / only the owner and staff see matches")
        if statuses is not None and problem["status"] not in statuses:
            raise InvalidInput(
                f"需求状态为 {problem['status']}，审核通过后才能匹配 / only approved problems are"
                " matched",
                field="status",
            )

    def rank_experts(
        self,
        conn: psycopg.Connection,
        problem: dict,
        *,
        text: str | None = None,
        region: str | None = None,
        discipline: str | None = None,
        vectors: dict | None = None,
    ) -> list[tuple[dict, aff.Affinity, Components, aff.ExpertEvidence]]:
        text = text or retrieval.problem_text(problem)
        candidates = retrieval.candidate_experts(self.indexer, conn, text)
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
        return self.score_experts(conn, problem, kept, text=text, vectors=vectors)

    def score_experts(
        self,
        conn: psycopg.Connection,
        problem: dict,
        experts: Sequence[dict],
        *,
        text: str | None = None,
        vectors: dict | None = None,
    ) -> list[tuple[dict, aff.Affinity, Components, aff.ExpertEvidence]]:
        """Score experts against a problem (no rules applied), best first."""
        if not experts:
            return []
        text = text or retrieval.problem_text(problem)
        models = aff.preferred_models(self.indexer.query_models(text))
        if vectors is None:
            vectors = retrieval.source_vectors(
                self.indexer, "problems", problem.get("id"), text, models
            )
        evidence = aff.load_evidence(self.indexer, conn, experts, models)
        scored = []
        for expert in experts:
            ev = evidence[expert["id"]]
            fit = aff.score_expert(vectors, models, ev)
            if fit is not None:
                scored.append((expert, fit, _expert_components(problem, fit, ev), ev))
        scored.sort(key=lambda item: (-item[2].score, item[0]["id"]))
        return scored

    # expert -> problems (inbox) ----------------------------------------------------------

    def expert_problems(
        self,
        expert_id: int,
        *,
        principal: Principal = SYSTEM,
        page: int = 1,
        page_size: int = 20,
        statuses: Statuses = rules.MATCHABLE_STATUSES,
    ) -> MatchPage:
        """An expert's inbox: matchable problems ranked by the expert's affinity to each."""
        with self.db.session() as conn:
            expert = self._row(conn, "experts", expert_id)
            if not allows(principal, "expert", "inbox", expert):
                raise Forbidden("只能查看自己的推荐需求 / you may only see your own inbox")
            ranked = self.rank_problems_for_expert(
                conn, expert, principal=principal, statuses=statuses
            )
            window, more = _window(ranked, page, page_size)
            works = present.work_rows(conn, [w for _, _, f in window for w, _ in f.best_works])
            items = [
                present.problem_item(principal, p, c, fit=f, works=works) for p, c, f in window
            ]
        source = {k: expert.get(k) for k in ("id", "external_id", "name", "organization")}
        return MatchPage(
            direction="expert_problems",
            source=source,
            items=items,
            page=page,
            page_size=page_size,
            has_more=more,
        )

    def rank_problems_for_expert(
        self,
        conn: psycopg.Connection,
        expert: dict,
        *,
        principal: Principal = SYSTEM,
        limit: int = 5000,
        statuses: Statuses = rules.MATCHABLE_STATUSES,
    ) -> list[tuple[dict, Components, aff.Affinity]]:
        """Every matchable problem the principal may read, scored by this expert's affinity."""
        from greenplat.core.permissions import problem_read_filter

        condition, params = problem_read_filter(principal)
        declined = rules.declined_problems_of(conn, expert["id"])
        problems = conn.execute(
            f"SELECT * FROM problems p WHERE {condition} AND p.status = ANY(%s)"
            " ORDER BY p.approved_at DESC NULLS LAST, p.id DESC LIMIT %s",
            [*params, list(statuses or PROBLEM_STATUSES), limit],
        ).fetchall()
        problems = [
            p for p in problems if p["id"] not in declined and not rules.conflicted(p, expert)
        ]
        # One expert against many problems: load the expert's evidence and the problems'
        # stored vectors once, then score in memory.
        evidence = aff.load_evidence(self.indexer, conn, [expert], self.indexer.models)
        ev = evidence[expert["id"]]
        ids = [p["id"] for p in problems]
        stored = {
            m: self.indexer.get_vectors("problems", ids, model=m) for m in self.indexer.models
        }
        out = []
        for problem in problems:
            text = retrieval.problem_text(problem)
            models = aff.preferred_models(self.indexer.query_models(text))
            vectors = {m: stored[m][problem["id"]] for m in models if problem["id"] in stored[m]}
            fit = aff.score_expert(vectors, models, ev)
            if fit is not None:
                out.append((problem, _expert_components(problem, fit, ev), fit))
        out.sort(key=lambda item: (-item[1].score, item[0]["id"]))
        return out

    # problem -> achievements, achievement -> problems, free text -------------------------

    def problem_achievements(
        self,
        problem_id: int,
        *,
        principal: Principal = SYSTEM,
        page: int = 1,
        page_size: int = 20,
        discipline: str | None = None,
        mode: str = "hybrid",
        statuses: Statuses = rules.MATCHABLE_STATUSES,
    ) -> MatchPage:
        """Achievements that could solve a problem, best first."""
        with self.db.session() as conn:
            problem = self._row(conn, "problems", problem_id)
            self._require_match(principal, problem, statuses)
            declined = {a for _, a in rules.declined_achievements(conn, [problem_id])}
        items, more = self._search_items(
            "achievements",
            retrieval.problem_text(problem),
            principal=principal,
            page=page,
            page_size=page_size,
            mode=mode,
            source=problem,
            filters={"discipline": discipline, "exclude_ids": tuple(declined)},
        )
        source = problem_to_read(problem, principal).model_dump(mode="json")
        return MatchPage(
            direction="problem_achievements",
            source=source,
            items=items,
            page=page,
            page_size=page_size,
            has_more=more,
        )

    def achievement_problems(
        self,
        achievement_id: int,
        *,
        principal: Principal = SYSTEM,
        page: int = 1,
        page_size: int = 20,
        region: str | None = None,
        industry: str | None = None,
        statuses: Statuses = rules.MATCHABLE_STATUSES,
    ) -> MatchPage:
        """Approved problems an achievement could be applied to, best first."""
        with self.db.session() as conn:
            achievement = self._row(conn, "achievements", achievement_id)
        items, more = self._search_items(
            "problems",
            retrieval.achievement_text(achievement),
            principal=principal,
            page=page,
            page_size=page_size,
            mode="hybrid",
            source=achievement,
            filters={"region": region, "industry": industry, "status": statuses},
        )
        source = {k: achievement.get(k) for k in ("id", "external_id", "title", "discipline")}
        return MatchPage(
            direction="achievement_problems",
            source=source,
            items=items,
            page=page,
            page_size=page_size,
            has_more=more,
        )

    def search(
        self,
        text: str,
        library: str,
        *,
        principal: Principal = SYSTEM,
        page: int = 1,
        page_size: int = 20,
        mode: str = "hybrid",
        region: str | None = None,
        industry: str | None = None,
        discipline: str | None = None,
        statuses: Statuses = rules.MATCHABLE_STATUSES,
    ) -> MatchPage:
        """Free text against any library (search before posting)."""
        text = (text or "").strip()
        if not text:
            raise InvalidInput("请输入检索内容 / text is empty", field="text")
        if library == "experts":
            with self.db.session() as conn:
                ranked = self.rank_experts(
                    conn,
                    {"title": text},
                    text=text,
                    region=region,
                    discipline=discipline,
                    vectors=self._query_vectors(text),
                )
                window, more = _window(ranked, page, page_size)
                items = [present.expert_item(conn, {"title": text}, principal, *e) for e in window]
        else:
            items, more = self._search_items(
                library,
                text,
                principal=principal,
                page=page,
                page_size=page_size,
                mode=mode,
                source={},
                filters={
                    "region": region,
                    "industry": industry,
                    "discipline": discipline,
                    "status": statuses,
                },
            )
        return MatchPage(
            direction="search",
            source={"text": text, "library": library},
            items=items,
            page=page,
            page_size=page_size,
            has_more=more,
        )

    def _query_vectors(self, text: str) -> dict:
        models = self.indexer.query_models(text)
        return {m: self.indexer.encode([text], model=m, kind="query")[0] for m in models}

    def _search_items(
        self,
        library: str,
        text: str,
        *,
        principal: Principal,
        page: int,
        page_size: int,
        mode: str,
        source: dict,
        filters: dict,
    ) -> tuple[list[MatchRead], bool]:
        hits = self.retrieve(
            library, text, principal=principal, k=page * page_size + 1, mode=mode, filters=filters
        )
        window, more = _window(hits, page, page_size)
        with self.db.session() as conn:
            rows = _rows(conn, library, [h.record_id for h, _ in window])
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
        self,
        library: str,
        text: str,
        *,
        principal: Principal = SYSTEM,
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
        hits = self.indexer.search(
            library, text=text, filters=SearchFilters(**clean), k=k, mode=mode
        )
        models = len(self.indexer.query_models(text)) if mode != "lexical" else 0
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

    # contract: pairs ---------------------------------------------------------------------

    def affinity(self, pairs: Sequence[tuple[str, str]]) -> list[float | None]:
        """Affinity of (expert external_id, problem external_id) pairs; None for unknown ids."""
        out: list[float | None] = []
        with self.db.session() as conn:
            experts = _by_external(conn, "experts", {e for e, _ in pairs})
            problems = _by_external(conn, "problems", {p for _, p in pairs})
            cache: dict[str, dict[int, float]] = {}
            for expert_ext, problem_ext in pairs:
                problem, expert = problems.get(problem_ext), experts.get(expert_ext)
                if problem is None or expert is None:
                    out.append(None)
                    continue
                if problem_ext not in cache:
                    wanted = [experts[e] for e, p in pairs if p == problem_ext and e in experts]
                    scored = self.score_experts(conn, problem, _unique(wanted))
                    cache[problem_ext] = {e["id"]: c.score for e, _, c, _ in scored}
                out.append(cache[problem_ext].get(expert["id"], 0.0))
        return out

    # contract: one source against a library -----------------------------------------------

    def match(
        self,
        target: str,
        *,
        k: int,
        text: str | None = None,
        problem_id: int | None = None,
        expert_id: int | None = None,
        achievement_id: int | None = None,
        mode: str = "hybrid",
    ) -> list[MatchRead]:
        """Top k records of target for one source (free text or a record), as a platform admin."""
        if target not in _TABLES:
            raise InvalidInput(f"unknown target {target!r}", field="to")
        if text is not None:
            return self.search(text, target, page_size=k, mode=mode, statuses=None).items
        if problem_id is not None:
            if target == "experts":
                return self.problem_experts(problem_id, page_size=k, statuses=None).items
            if target == "achievements":
                return self.problem_achievements(
                    problem_id, page_size=k, mode=mode, statuses=None
                ).items
            return self._similar("problems", problem_id, retrieval.problem_text, k, mode)
        if expert_id is not None:
            if target == "problems":
                return self.expert_problems(expert_id, page_size=k, statuses=None).items
            with self.db.session() as conn:
                text = retrieval.expert_text(conn, self._row(conn, "experts", expert_id))
            if target == "experts":
                return [
                    m for m in self.search(text, target, page_size=k + 1).items if m.id != expert_id
                ][:k]
            return self.search(text, target, page_size=k, mode=mode, statuses=None).items
        if achievement_id is not None:
            if target == "problems":
                return self.achievement_problems(achievement_id, page_size=k, statuses=None).items
            if target == "experts":
                return self._achievement_experts(achievement_id, k)
            return self._similar(
                "achievements", achievement_id, retrieval.achievement_text, k, mode
            )
        raise InvalidInput("a query needs query, problem_id, expert_id or achievement_id")

    def _similar(self, library: str, record_id: int, to_text, k: int, mode: str):
        with self.db.session() as conn:
            text = to_text(self._row(conn, library, record_id))
        items, _ = self._search_items(
            library,
            text,
            principal=SYSTEM,
            page=1,
            page_size=k,
            mode=mode,
            source={},
            filters={"exclude_ids": (record_id,), "status": None},
        )
        return items

    def _achievement_experts(self, achievement_id: int, k: int) -> list[MatchRead]:
        with self.db.session() as conn:
            achievement = self._row(conn, "achievements", achievement_id)
            text = retrieval.achievement_text(achievement)
            source = {"title": text, "organization": achievement.get("organization")}
            ranked = self.rank_experts(conn, source, text=text, vectors=self._query_vectors(text))
            authors = set(achievement.get("expert_ids") or [])
            ranked = [r for r in ranked if r[0]["external_id"] not in authors][:k]
            return [present.expert_item(conn, source, SYSTEM, *entry) for entry in ranked]

    # event assignment --------------------------------------------------------------------

    def assign(
        self,
        problem_ids: Sequence[int],
        expert_ids: Sequence[int] | None = None,
        *,
        k: int = 3,
        principal: Principal = SYSTEM,
        record: bool = False,
    ) -> AssignResult:
        """k experts per problem maximising total fit (all experts when none are given)."""
        from greenplat.matcher.events import assign_event

        with self.db.session() as conn:
            return assign_event(
                self,
                conn,
                principal=principal,
                problem_ids=problem_ids,
                expert_ids=expert_ids,
                k=k,
                record=record,
            )


def _expert_components(problem: dict, fit: aff.Affinity, ev: aff.ExpertEvidence) -> Components:
    """The expert's affinity re-ranked by field, region and recency agreement."""
    expert = ev.expert
    labels = [*(expert.get("disciplines") or []), *(w.discipline for w in ev.works)]
    latest = max((w.year for w in ev.works if w.year), default=None)
    signals = Signals(
        field=scoring.field_agreement([problem.get("industry")], labels),
        region=scoring.region_agreement(problem.get("region"), expert.get("region")),
        recency=scoring.recency(latest, dt.date.today().year),
    )
    comps = Components(relevance=fit.score, works=fit.works, profile=fit.profile, signals=signals)
    comps.score = scoring.rerank(fit.score, signals)
    return comps


def _unique(rows: list[dict]) -> list[dict]:
    return list({row["id"]: row for row in rows}.values())


def _by_external(conn: psycopg.Connection, library: str, ids: set[str]) -> dict[str, dict]:
    rows = conn.execute(
        f"SELECT * FROM {library} WHERE external_id = ANY(%s)", (list(ids),)
    ).fetchall()
    return {row["external_id"]: row for row in rows}


def _rows(conn: psycopg.Connection, library: str, ids: list[int]) -> dict[int, dict]:
    rows = conn.execute(f"SELECT * FROM {library} WHERE id = ANY(%s)", (ids,)).fetchall()
    return {row["id"]: row for row in rows}


def _window(items: list, page: int, page_size: int) -> tuple[list, bool]:
    start = (page - 1) * page_size
    return items[start : start + page_size], len(items) > start + page_size
