"""The record-to-library directions readers page through: problem -> experts / achievements,
expert -> problems (the inbox), achievement -> problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenplat.core.db import Connection
from greenplat.core.errors import Forbidden, InvalidInput, NotFound
from greenplat.core.permissions import Principal, allows
from greenplat.core.problems.service import to_read as problem_to_read
from greenplat.matcher import items as present
from greenplat.matcher import ranking, records, relevance, retrieval, rules, search
from greenplat.matcher.models import MatchPage

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer


def problem_experts(
    indexer: Indexer,
    problem_id: int,
    *,
    conn: Connection,
    principal: Principal,
    page: int = 1,
    page_size: int = 20,
    region: str | None = None,
    discipline: str | None = None,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
    bar: bool = True,
) -> MatchPage:
    """Experts for a problem, best first: what they did and their profile, after the rules."""
    problem = records.get_or_raise(conn, "problems", problem_id)
    require_match(principal, problem, statuses)
    ranked = ranking.rank_experts(
        indexer,
        conn,
        problem,
        region=region,
        discipline=discipline,
        bar=bar,
        want=page * page_size + 1,
    )
    window, more = records.window(ranked, page, page_size)
    items = present.expert_items(conn, problem, principal, window)
    source = problem_to_read(problem, principal).model_dump(mode="json")
    return MatchPage(
        direction="problem_experts",
        source=source,
        items=items,
        page=page,
        page_size=page_size,
        has_more=more,
    )


def require_match(principal: Principal, problem: dict, statuses: rules.Statuses) -> None:
    """Raise unless the principal may see this problem's matches and its status is matched."""
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


def expert_problems(
    indexer: Indexer,
    expert_id: int,
    *,
    conn: Connection,
    principal: Principal,
    page: int = 1,
    page_size: int = 20,
    region: str | None = None,
    industry: str | None = None,
    level: relevance.Level | None = None,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
    bar: bool = True,
) -> MatchPage:
    """An expert's inbox: problems their works find, by the expert's affinity, paged and
    filtered by region, industry and the lowest level to show."""
    expert = records.get_or_raise(conn, "experts", expert_id)
    if not allows(principal, "expert", "inbox", expert):
        raise Forbidden("只能查看自己的推荐需求 / you may only see your own inbox")
    ranked = ranking.rank_problems_for_expert(
        indexer,
        conn,
        expert,
        principal=principal,
        statuses=statuses,
        region=region,
        industry=industry,
        bar=bar,
        want=page * page_size + 1,
        lowest=level,
    )
    window, more = records.window(ranked, page, page_size)
    works = present.expert_works(conn, expert)
    items = [present.problem_item(principal, p, c, fit=f, works=works) for p, c, f in window]
    source = {k: expert.get(k) for k in ("id", "external_id", "name", "organization")}
    return MatchPage(
        direction="expert_problems",
        source=source,
        items=items,
        page=page,
        page_size=page_size,
        has_more=more,
    )


def problem_achievements(
    indexer: Indexer,
    problem_id: int,
    *,
    conn: Connection,
    principal: Principal,
    page: int = 1,
    page_size: int = 20,
    discipline: str | None = None,
    mode: str = "hybrid",
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
    bar: bool = True,
) -> MatchPage:
    """Achievements that could solve a problem, best first."""
    problem = records.get_or_raise(conn, "problems", problem_id)
    require_match(principal, problem, statuses)
    declined = {a for _, a in rules.declined_achievements(conn, [problem_id])}
    items, more = search.search_items(
        indexer,
        "achievements",
        retrieval.problem_text(problem),
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        mode=mode,
        source=problem,
        filters={"discipline": discipline, "exclude_ids": tuple(declined)},
        bar=bar,
        record=("problems", problem_id),
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
    indexer: Indexer,
    achievement_id: int,
    *,
    conn: Connection,
    principal: Principal,
    page: int = 1,
    page_size: int = 20,
    region: str | None = None,
    industry: str | None = None,
    statuses: rules.Statuses = rules.MATCHABLE_STATUSES,
    bar: bool = True,
) -> MatchPage:
    """Approved problems an achievement could be applied to, best first."""
    achievement = records.get_or_raise(conn, "achievements", achievement_id)
    items, more = search.search_items(
        indexer,
        "problems",
        retrieval.achievement_text(achievement),
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        mode="hybrid",
        source=achievement,
        filters={"region": region, "industry": industry, "status": statuses},
        bar=bar,
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
