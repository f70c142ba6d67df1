"""The matcher's public interface: every matching direction, affinity, assignment, search.

Each method runs in the caller's connection (the request's, or a command's own session) and
delegates to the module that does the work: directions (problem -> experts / achievements,
expert inbox, achievement -> problems), ranking (expert affinity), search (free text and
library retrieval), contract (pairs and top k), events (assignment)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from greenplat.core import heap
from greenplat.core.db import Connection
from greenplat.core.permissions import SYSTEM, Principal
from greenplat.matcher import affinity, contract, directions, ranking, records
from greenplat.matcher import search as free_text
from greenplat.matcher.models import AssignResult, MatchPage, MatchRead
from greenplat.matcher.relevance import Level
from greenplat.matcher.rules import MATCHABLE_STATUSES, Statuses
from greenplat.matcher.scoring import Components
from greenplat.matcher.search import MAX_RESULTS

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer

__all__ = ["MAX_RESULTS", "Matcher", "Statuses"]

# What Matcher.warm searches for: one need in each language the platform reads.
WARM_TEXTS = ("储能电池热失控预警", "battery thermal runaway early warning")


class Matcher:
    """Recommends experts and achievements for problems, problems for experts and achievements."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer

    def warm(self, conn: Connection) -> int:
        """Load what a first search would wait for, then settle the heap (core.heap).

        A search of experts in Chinese and one in English (read only) load the query models,
        the word segmenter and the dictionary of translations, and prepare the statements
        searches use, after loading the works and vectors matches score experts by into
        memory (affinity.keep_evidence). Returns the number of objects the collector leaves
        alone from now on.
        """
        affinity.keep_evidence(self.indexer, conn)
        for text in WARM_TEXTS:
            self.search(text, "experts", conn=conn, principal=SYSTEM, page_size=1)
        return heap.settle()

    def resolve(self, library: str, external_id: str, *, conn: Connection) -> int:
        """The id of the record with this external_id, or NotFound."""
        return records.get_id_by_external_id(conn, library, external_id)

    # record -> library directions, paged, with explanations -------------------------------

    def problem_experts(
        self,
        problem_id: int,
        *,
        conn: Connection,
        principal: Principal,
        page: int = 1,
        page_size: int = 20,
        region: str | None = None,
        discipline: str | None = None,
        statuses: Statuses = MATCHABLE_STATUSES,
        bar: bool = True,
    ) -> MatchPage:
        """Experts for a problem, best first, after the rules and the relevance bar."""
        return directions.problem_experts(
            self.indexer,
            problem_id,
            conn=conn,
            principal=principal,
            page=page,
            page_size=page_size,
            region=region,
            discipline=discipline,
            statuses=statuses,
            bar=bar,
        )

    def expert_problems(
        self,
        expert_id: int,
        *,
        conn: Connection,
        principal: Principal,
        page: int = 1,
        page_size: int = 20,
        region: str | None = None,
        industry: str | None = None,
        level: Level | None = None,
        statuses: Statuses = MATCHABLE_STATUSES,
        bar: bool = True,
    ) -> MatchPage:
        """An expert's inbox: problems their works find, above the bar, by affinity."""
        return directions.expert_problems(
            self.indexer,
            expert_id,
            conn=conn,
            principal=principal,
            page=page,
            page_size=page_size,
            region=region,
            industry=industry,
            level=level,
            statuses=statuses,
            bar=bar,
        )

    def problem_achievements(
        self,
        problem_id: int,
        *,
        conn: Connection,
        principal: Principal,
        page: int = 1,
        page_size: int = 20,
        discipline: str | None = None,
        mode: str = "hybrid",
        statuses: Statuses = MATCHABLE_STATUSES,
        bar: bool = True,
    ) -> MatchPage:
        """Achievements that could solve a problem, best first."""
        return directions.problem_achievements(
            self.indexer,
            problem_id,
            conn=conn,
            principal=principal,
            page=page,
            page_size=page_size,
            discipline=discipline,
            mode=mode,
            statuses=statuses,
            bar=bar,
        )

    def achievement_problems(
        self,
        achievement_id: int,
        *,
        conn: Connection,
        principal: Principal,
        page: int = 1,
        page_size: int = 20,
        region: str | None = None,
        industry: str | None = None,
        statuses: Statuses = MATCHABLE_STATUSES,
        bar: bool = True,
    ) -> MatchPage:
        """Approved problems an achievement could be applied to, best first."""
        return directions.achievement_problems(
            self.indexer,
            achievement_id,
            conn=conn,
            principal=principal,
            page=page,
            page_size=page_size,
            region=region,
            industry=industry,
            statuses=statuses,
            bar=bar,
        )

    # ranking inside a caller's transaction (event assignment) -----------------------------

    def rank_experts(self, conn: Connection, problem: dict) -> list[ranking.RankedExpert]:
        """Candidate experts for a problem that pass the rules, best first."""
        return ranking.rank_experts(self.indexer, conn, problem)

    def score_experts(
        self, conn: Connection, problem: dict, experts: Sequence[dict]
    ) -> list[ranking.RankedExpert]:
        """These experts scored against a problem (no rules applied), best first."""
        return ranking.score_experts(self.indexer, conn, problem, experts)

    def expert_levels(
        self, conn: Connection, problem: dict, experts: Sequence[dict]
    ) -> dict[int, Level | None]:
        """These experts' fit levels for a problem (None below the bar), no rules applied."""
        return ranking.expert_levels(self.indexer, conn, problem, experts)

    # free text ----------------------------------------------------------------------------

    def search(
        self,
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
        statuses: Statuses = MATCHABLE_STATUSES,
        bar: bool = True,
    ) -> MatchPage:
        """Free text against any library (search before posting); bar=False lifts the bar."""
        return free_text.search(
            self.indexer,
            text,
            library,
            conn=conn,
            principal=principal,
            page=page,
            page_size=page_size,
            mode=mode,
            region=region,
            industry=industry,
            discipline=discipline,
            kind=kind,
            statuses=statuses,
            bar=bar,
        )

    def retrieve(
        self,
        library: str,
        text: str,
        *,
        conn: Connection,
        principal: Principal,
        k: int = 20,
        mode: str = "hybrid",
        filters: dict[str, Any] | None = None,
        bar: bool = True,
    ) -> list[tuple[Any, Components, dict]]:
        """Hybrid (or lexical / vector) search of a library, scored, judged and ranked."""
        return free_text.retrieve(
            self.indexer,
            library,
            text,
            conn=conn,
            principal=principal,
            k=k,
            mode=mode,
            filters=filters,
            bar=bar,
        )

    # contract: pairs, one source against a library ------------------------------------------

    def affinity(self, pairs: Sequence[tuple[str, str]], *, conn: Connection) -> list[float | None]:
        """Affinity of (expert external_id, problem external_id) pairs; None for unknown ids."""
        return contract.affinity(self.indexer, pairs, conn=conn)

    def match(
        self,
        target: str,
        *,
        conn: Connection,
        k: int,
        text: str | None = None,
        problem_id: int | None = None,
        expert_id: int | None = None,
        achievement_id: int | None = None,
        mode: str = "hybrid",
        bar: bool = True,
    ) -> list[MatchRead]:
        """Top k records of target for one source, as a platform admin; bar=False lifts it."""
        return contract.match(
            self.indexer,
            target,
            conn=conn,
            k=k,
            text=text,
            problem_id=problem_id,
            expert_id=expert_id,
            achievement_id=achievement_id,
            mode=mode,
            bar=bar,
        )

    # event assignment ---------------------------------------------------------------------

    def assign(
        self,
        problem_ids: Sequence[int],
        expert_ids: Sequence[int] | None = None,
        *,
        conn: Connection,
        principal: Principal,
        k: int = 3,
        record: bool = False,
    ) -> AssignResult:
        """k experts per problem maximising total fit (all experts when none are given)."""
        from greenplat.matcher.events import assign_event

        return assign_event(
            self,
            conn,
            principal=principal,
            problem_ids=problem_ids,
            expert_ids=expert_ids,
            k=k,
            record=record,
        )
