"""The interchange contract's calls: affinity of pairs, and top k of a library for one source.

Both act as a platform admin (every status, every record)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput
from greenplat.core.permissions import SYSTEM
from greenplat.matcher import directions, ranking, records, retrieval, search
from greenplat.matcher import items as present
from greenplat.matcher.models import MatchRead

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer


def affinity(
    indexer: Indexer, pairs: Sequence[tuple[str, str]], *, conn: Connection
) -> list[float | None]:
    """Affinity of (expert external_id, problem external_id) pairs; None for unknown ids."""
    out: list[float | None] = []
    experts = records.by_external_ids(conn, "experts", {e for e, _ in pairs})
    problems = records.by_external_ids(conn, "problems", {p for _, p in pairs})
    cache: dict[str, dict[int, float]] = {}
    for expert_ext, problem_ext in pairs:
        problem, expert = problems.get(problem_ext), experts.get(expert_ext)
        if problem is None or expert is None:
            out.append(None)
            continue
        if problem_ext not in cache:
            wanted = [experts[e] for e, p in pairs if p == problem_ext and e in experts]
            scored = ranking.score_experts(indexer, conn, problem, records.unique(wanted))
            cache[problem_ext] = {e["id"]: c.score for e, _, c, _ in scored}
        out.append(cache[problem_ext].get(expert["id"], 0.0))
    return out


def match(
    indexer: Indexer,
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
    """Top k records of target for one source, as a platform admin; bar=False lifts the bar."""
    if target not in records.TABLES:
        raise InvalidInput(f"unknown target {target!r}", field="to")
    if text is not None:
        return _text(indexer, conn, text, target, k, mode, bar)
    if problem_id is not None:
        return _from_problem(indexer, conn, target, problem_id, k, mode, bar)
    if expert_id is not None:
        return _from_expert(indexer, conn, target, expert_id, k, mode, bar)
    if achievement_id is not None:
        return _from_achievement(indexer, conn, target, achievement_id, k, mode, bar)
    raise InvalidInput("a query needs query, problem_id, expert_id or achievement_id")


def _text(
    indexer: Indexer, conn: Connection, text: str, target: str, k: int, mode: str, bar: bool
) -> list[MatchRead]:
    return search.search(
        indexer,
        text,
        target,
        conn=conn,
        principal=SYSTEM,
        page_size=k,
        mode=mode,
        statuses=None,
        bar=bar,
    ).items


def _from_problem(
    indexer: Indexer, conn: Connection, target: str, problem_id: int, k: int, mode: str, bar: bool
) -> list[MatchRead]:
    if target == "experts":
        return directions.problem_experts(
            indexer, problem_id, conn=conn, principal=SYSTEM, page_size=k, statuses=None, bar=bar
        ).items
    if target == "achievements":
        return directions.problem_achievements(
            indexer,
            problem_id,
            conn=conn,
            principal=SYSTEM,
            page_size=k,
            mode=mode,
            statuses=None,
            bar=bar,
        ).items
    return _similar(indexer, conn, "problems", problem_id, retrieval.problem_text, k, mode, bar)


def _from_expert(
    indexer: Indexer, conn: Connection, target: str, expert_id: int, k: int, mode: str, bar: bool
) -> list[MatchRead]:
    if target == "problems":
        return directions.expert_problems(
            indexer, expert_id, conn=conn, principal=SYSTEM, page_size=k, statuses=None, bar=bar
        ).items
    text = retrieval.expert_text(conn, records.get_or_raise(conn, "experts", expert_id))
    if target == "experts":
        found = search.search(
            indexer, text, target, conn=conn, principal=SYSTEM, page_size=k + 1, bar=bar
        ).items
        return [m for m in found if m.id != expert_id][:k]
    return _text(indexer, conn, text, target, k, mode, bar)


def _from_achievement(
    indexer: Indexer,
    conn: Connection,
    target: str,
    achievement_id: int,
    k: int,
    mode: str,
    bar: bool,
) -> list[MatchRead]:
    if target == "problems":
        return directions.achievement_problems(
            indexer,
            achievement_id,
            conn=conn,
            principal=SYSTEM,
            page_size=k,
            statuses=None,
            bar=bar,
        ).items
    if target == "experts":
        return _achievement_experts(indexer, conn, achievement_id, k, bar)
    return _similar(
        indexer, conn, "achievements", achievement_id, retrieval.achievement_text, k, mode, bar
    )


def _similar(
    indexer: Indexer,
    conn: Connection,
    library: str,
    record_id: int,
    to_text: Callable[[dict], str],
    k: int,
    mode: str,
    bar: bool,
) -> list[MatchRead]:
    text = to_text(records.get_or_raise(conn, library, record_id))
    items, _ = search.search_items(
        indexer,
        library,
        text,
        conn=conn,
        principal=SYSTEM,
        page=1,
        page_size=k,
        mode=mode,
        source={},
        filters={"exclude_ids": (record_id,), "status": None},
        bar=bar,
    )
    return items


def _achievement_experts(
    indexer: Indexer, conn: Connection, achievement_id: int, k: int, bar: bool
) -> list[MatchRead]:
    achievement = records.get_or_raise(conn, "achievements", achievement_id)
    text = retrieval.achievement_text(achievement)
    source = {"title": text, "organization": achievement.get("organization")}
    vectors = search.query_vectors(indexer, text)
    authors = set(achievement.get("expert_ids") or [])
    ranked = ranking.rank_experts(
        indexer, conn, source, text=text, vectors=vectors, bar=bar, want=k + len(authors)
    )
    ranked = [r for r in ranked if r[0]["external_id"] not in authors][:k]
    return present.expert_items(conn, source, SYSTEM, ranked)
