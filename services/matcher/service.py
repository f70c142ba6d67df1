"""The matcher's public interface: every matching direction, affinity, assignment, evaluation.

A thin facade over the modules that do the work: directions (problem -> experts /
achievements, expert inbox, achievement -> problems), ranking (expert affinity), search
(free text and library retrieval), contract (pairs and top k), events (assignment)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from greenplat.core.db import Database
from greenplat.core.permissions import SYSTEM, Principal
from greenplat.core.settings import Settings
from greenplat.matcher import affinity as aff
from greenplat.matcher import contract, directions, ranking, records, rules, search
from greenplat.matcher.models import AssignResult, MatchPage, MatchRead
from greenplat.matcher.rules import Statuses
from greenplat.matcher.scoring import Components
from greenplat.matcher.search import MAX_RESULTS

__all__ = ["MAX_RESULTS", "Matcher", "Statuses"]


class Matcher:
    """Recommends experts and achievements for problems, problems for experts and achievements."""

    def __init__(self, settings: Settings, db: Database, indexer) -> None:
        self.settings = settings
        self.db = db
        self.indexer = indexer

    def resolve(self, library: str, external_id: str) -> int:
        """The id of the record with this external_id, or NotFound."""
        with self.db.session() as conn:
            return records.get_id_by_external_id(conn, library, external_id)

    # problem -> experts, expert -> problems (inbox) --------------------------------------

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
        return directions.problem_experts(
            self.db,
            self.indexer,
            problem_id,
            principal=principal,
            page=page,
            page_size=page_size,
            region=region,
            discipline=discipline,
            statuses=statuses,
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
    ) -> list[ranking.RankedExpert]:
        """Candidate experts for a problem that pass the rules and filters, best first."""
        return ranking.rank_experts(
            self.indexer,
            conn,
            problem,
            text=text,
            region=region,
            discipline=discipline,
            vectors=vectors,
        )

    def score_experts(
        self,
        conn: psycopg.Connection,
        problem: dict,
        experts: Sequence[dict],
        *,
        text: str | None = None,
        vectors: dict | None = None,
    ) -> list[ranking.RankedExpert]:
        """Score experts against a problem (no rules applied), best first."""
        return ranking.score_experts(
            self.indexer, conn, problem, experts, text=text, vectors=vectors
        )

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
        return directions.expert_problems(
            self.db,
            self.indexer,
            expert_id,
            principal=principal,
            page=page,
            page_size=page_size,
            statuses=statuses,
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
        return ranking.rank_problems_for_expert(
            self.indexer, conn, expert, principal=principal, limit=limit, statuses=statuses
        )

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
        return directions.problem_achievements(
            self.db,
            self.indexer,
            problem_id,
            principal=principal,
            page=page,
            page_size=page_size,
            discipline=discipline,
            mode=mode,
            statuses=statuses,
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
        return directions.achievement_problems(
            self.db,
            self.indexer,
            achievement_id,
            principal=principal,
            page=page,
            page_size=page_size,
            region=region,
            industry=industry,
            statuses=statuses,
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
        return search.search(
            self.db,
            self.indexer,
            text,
            library,
            principal=principal,
            page=page,
            page_size=page_size,
            mode=mode,
            region=region,
            industry=industry,
            discipline=discipline,
            statuses=statuses,
        )

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
        return search.retrieve(
            self.indexer, library, text, principal=principal, k=k, mode=mode, filters=filters
        )

    # contract: pairs, one source against a library ---------------------------------------

    def affinity(self, pairs: Sequence[tuple[str, str]]) -> list[float | None]:
        """Affinity of (expert external_id, problem external_id) pairs; None for unknown ids."""
        return contract.affinity(self.db, self.indexer, pairs)

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
        return contract.match(
            self.db,
            self.indexer,
            target,
            k=k,
            text=text,
            problem_id=problem_id,
            expert_id=expert_id,
            achievement_id=achievement_id,
            mode=mode,
        )

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
