"""The matcher's public interface: every matching direction, affinity, assignment, evaluation.

A thin facade over the modules that do the work: directions (problem -> experts /
achievements, expert inbox, achievement -> problems), ranking (expert affinity), search
(free text and library retrieval), contract (pairs and top k), events (assignment)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from greenplat.core.db import Database
from greenplat.core.permissions import Principal
from greenplat.core.settings import Settings
from greenplat.matcher import contract, directions, ranking, records
from greenplat.matcher import search as free_text
from greenplat.matcher.models import AssignResult
from greenplat.matcher.rules import Statuses
from greenplat.matcher.search import MAX_RESULTS

__all__ = ["MAX_RESULTS", "Matcher", "Statuses"]


def _delegate(function: Callable[..., Any], *state: str) -> Callable[..., Any]:
    """A Matcher method calling a module function with the matcher's db and/or indexer first.

    The module functions take their state explicitly; this keeps the facade from restating
    every signature, while help() and inspect still show the method's own parameters.
    """

    @functools.wraps(function)
    def method(self: Matcher, *args: Any, **kwargs: Any) -> Any:
        return function(*(getattr(self, name) for name in state), *args, **kwargs)

    signature = inspect.signature(function)
    own = list(signature.parameters.values())[len(state) :]
    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(parameters=[this, *own])  # type: ignore[attr-defined]
    return method


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

    # record -> library directions, paged, with explanations
    problem_experts = _delegate(directions.problem_experts, "db", "indexer")
    expert_problems = _delegate(directions.expert_problems, "db", "indexer")
    problem_achievements = _delegate(directions.problem_achievements, "db", "indexer")
    achievement_problems = _delegate(directions.achievement_problems, "db", "indexer")

    # ranking inside a caller's transaction (event assignment, the portal)
    rank_experts = _delegate(ranking.rank_experts, "indexer")
    score_experts = _delegate(ranking.score_experts, "indexer")
    rank_problems_for_expert = _delegate(ranking.rank_problems_for_expert, "indexer")

    # free text
    search = _delegate(free_text.search, "db", "indexer")
    retrieve = _delegate(free_text.retrieve, "indexer")

    # contract: pairs, one source against a library
    affinity = _delegate(contract.affinity, "db", "indexer")
    match = _delegate(contract.match, "db", "indexer")

    # event assignment --------------------------------------------------------------------

    def assign(
        self,
        problem_ids: Sequence[int],
        expert_ids: Sequence[int] | None = None,
        *,
        k: int = 3,
        principal: Principal,
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
