"""Matches (匹配): every direction, feedback on matches, and event assignment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal, PlatformDep, SettingsDep
from greenplat.core.errors import Forbidden
from greenplat.core.permissions import require_any
from greenplat.matcher import feedback
from greenplat.matcher import followup as followups
from greenplat.matcher.board import board
from greenplat.matcher.models import (
    AssignRequest,
    AssignResult,
    FeedbackAction,
    FeedbackCreate,
    FeedbackPage,
    FeedbackRead,
    FollowupItem,
    MatchPage,
    NudgeResult,
    PipelineRow,
)

router = APIRouter(prefix="/v1/matches", tags=["matches 匹配"])

RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Page = Annotated[int, Query(ge=1, le=1000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
Filter = Annotated[str | None, Query(max_length=200)]
# The lowest fit level to show: high, good or possible (all above the bar).
LevelFilter = Annotated[Literal["high", "good", "possible"] | None, Query()]


@router.get("/problems/{problem_id}/experts", response_model=MatchPage)
def problem_experts(
    problem_id: RecordId,
    principal: CurrentPrincipal,
    platform: PlatformDep,
    conn: Conn,
    page: Page = 1,
    page_size: PageSize = 20,
    region: Filter = None,
    discipline: Filter = None,
) -> MatchPage:
    """Experts for a problem (its owner, its sub-center, platform staff), with reasons."""
    return platform.matcher.problem_experts(
        problem_id,
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        region=region,
        discipline=discipline,
    )


@router.get("/problems/{problem_id}/achievements", response_model=MatchPage)
def problem_achievements(
    problem_id: RecordId,
    principal: CurrentPrincipal,
    platform: PlatformDep,
    conn: Conn,
    page: Page = 1,
    page_size: PageSize = 20,
    discipline: Filter = None,
) -> MatchPage:
    """Achievements that could solve a problem, with reasons."""
    return platform.matcher.problem_achievements(
        problem_id,
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        discipline=discipline,
    )


@router.get("/inbox", response_model=MatchPage)
def my_inbox(
    principal: CurrentPrincipal,
    platform: PlatformDep,
    conn: Conn,
    page: Page = 1,
    page_size: PageSize = 20,
    region: Filter = None,
    industry: Filter = None,
    level: LevelFilter = None,
) -> MatchPage:
    """The signed-in expert's inbox: approved problems above the bar, ranked by fit."""
    if principal.expert_id is None:
        raise Forbidden("只有专家账号有推荐需求 / only expert accounts have an inbox")
    return expert_problems(
        principal.expert_id, principal, platform, conn, page, page_size, region, industry, level
    )


@router.get("/experts/{expert_id}/problems", response_model=MatchPage)
def expert_problems(
    expert_id: RecordId,
    principal: CurrentPrincipal,
    platform: PlatformDep,
    conn: Conn,
    page: Page = 1,
    page_size: PageSize = 20,
    region: Filter = None,
    industry: Filter = None,
    level: LevelFilter = None,
) -> MatchPage:
    """An expert's inbox (the expert itself, its sub-center, platform staff)."""
    return platform.matcher.expert_problems(
        expert_id,
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        region=region,
        industry=industry,
        level=level,
    )


@router.get("/achievements/{achievement_id}/problems", response_model=MatchPage)
def achievement_problems(
    achievement_id: RecordId,
    principal: CurrentPrincipal,
    platform: PlatformDep,
    conn: Conn,
    page: Page = 1,
    page_size: PageSize = 20,
    region: Filter = None,
    industry: Filter = None,
) -> MatchPage:
    """Approved problems an achievement could be applied to (those the reader may see)."""
    return platform.matcher.achievement_problems(
        achievement_id,
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        region=region,
        industry=industry,
    )


@router.get("/problems/{problem_id}/pipeline", response_model=list[PipelineRow])
def problem_pipeline(
    problem_id: RecordId, principal: CurrentPrincipal, conn: Conn, platform: PlatformDep
):
    """Each expert once with its fit level (high / good / possible, null below the bar), its
    stage (推荐 → 已邀请 → 有意向 / 已婉拒 → 已联系 → 洽谈中 → 已成交), its history, the actions the
    reader may take next, and contacts after consent."""
    return board(platform.matcher, conn=conn, principal=principal, problem_id=problem_id)


@router.post("/feedback", response_model=FeedbackRead, status_code=status.HTTP_201_CREATED)
def create_feedback(data: FeedbackCreate, principal: CurrentPrincipal, conn: Conn) -> FeedbackRead:
    """Move a pair along the pipeline (docs/loop.md): invited (note), interested (proposal),
    declined (reason), contacted, negotiating, deal (contract kind, amount, date); or viewed."""
    return feedback.create(conn=conn, principal=principal, data=data)


@router.get("/feedback", response_model=FeedbackPage)
def list_feedback(
    principal: CurrentPrincipal,
    conn: Conn,
    problem_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    expert_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    action: FeedbackAction | None = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> FeedbackPage:
    """Feedback on matches the reader may see, newest first."""
    return feedback.list(
        conn=conn,
        principal=principal,
        problem_id=problem_id,
        expert_id=expert_id,
        action=action,
        page=page,
        page_size=page_size,
    )


@router.post("/assign", response_model=AssignResult)
def assign(
    data: AssignRequest, principal: CurrentPrincipal, platform: PlatformDep, conn: Conn
) -> AssignResult:
    """Event assignment (对接会): k experts per problem maximising total fit under capacity."""
    require_any(principal, "problem", "match")
    return platform.matcher.assign(
        data.problem_ids,
        data.expert_ids,
        conn=conn,
        principal=principal,
        k=data.k,
        record=data.record,
    )


@router.get("/followup", response_model=list[FollowupItem])
def followup(
    principal: CurrentPrincipal,
    conn: Conn,
    settings: SettingsDep,
    days: Annotated[int | None, Query(ge=0, le=3650)] = None,
) -> list[FollowupItem]:
    """Approved problems without an expert's answer after N days (default: the setting)."""
    rows = followups.waiting(
        conn=conn, principal=principal, days=settings.followup_days if days is None else days
    )
    return [FollowupItem(**r) for r in rows]


@router.post("/followup/{problem_id}/nudge", response_model=NudgeResult)
def nudge(
    problem_id: RecordId, principal: CurrentPrincipal, conn: Conn, platform: PlatformDep
) -> NudgeResult:
    """Remind the problem's recommended and invited experts."""
    k = max(platform.settings.notify_top_experts, 1)
    return NudgeResult(notified=followups.nudge(platform.matcher, conn, principal, problem_id, k))
