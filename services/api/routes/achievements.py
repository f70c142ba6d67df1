"""Achievements (科技成果): CRUD and list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.achievements import service
from greenplat.core.achievements.models import (
    AchievementCreate,
    AchievementKind,
    AchievementPage,
    AchievementRead,
    AchievementUpdate,
)
from greenplat.core.errors import InvalidInput

router = APIRouter(prefix="/v1/achievements", tags=["achievements 成果"])

AchievementId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Filter = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=AchievementPage)
def list_achievements(
    principal: CurrentPrincipal,
    conn: Conn,
    discipline: Filter = None,
    kind: AchievementKind | None = None,
    organization: Filter = None,
    expert_id: Annotated[
        str | None, Query(max_length=200, description="expert external_id")
    ] = None,
    q: Filter = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Annotated[
        str | None, Query(max_length=50, description=", ".join(service.SORTABLE))
    ] = None,
    withdrawn: Annotated[
        bool, Query(description="one expert's withdrawn achievements (with expert_id)")
    ] = False,
) -> AchievementPage:
    """Achievements, filtered; '-field' sorts descending. withdrawn=true lists an expert's
    withdrawn achievements to those who manage them."""
    if withdrawn and not expert_id:
        message = "列出已撤回的成果须指定 expert_id / withdrawn=true needs expert_id"
        raise InvalidInput(message, field="expert_id")
    return service.list(
        conn=conn,
        principal=principal,
        discipline=discipline,
        kind=kind,
        organization=organization,
        expert_id=expert_id,
        q=q,
        page=page,
        page_size=page_size,
        sort=sort,
        withdrawn=withdrawn,
    )


@router.post("", response_model=AchievementRead, status_code=status.HTTP_201_CREATED)
def create_achievement(
    data: AchievementCreate, principal: CurrentPrincipal, conn: Conn
) -> AchievementRead:
    """Create an achievement (an expert is always listed among its own)."""
    return service.create(conn=conn, principal=principal, data=data)


@router.get("/{achievement_id}", response_model=AchievementRead)
def get_achievement(
    achievement_id: AchievementId, principal: CurrentPrincipal, conn: Conn
) -> AchievementRead:
    """One achievement."""
    return service.get_or_raise(conn=conn, principal=principal, achievement_id=achievement_id)


@router.patch("/{achievement_id}", response_model=AchievementRead)
def update_achievement(
    achievement_id: AchievementId, data: AchievementUpdate, principal: CurrentPrincipal, conn: Conn
) -> AchievementRead:
    """Change fields of an achievement."""
    return service.update(conn=conn, principal=principal, achievement_id=achievement_id, data=data)


@router.delete("/{achievement_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_achievement(
    achievement_id: AchievementId, principal: CurrentPrincipal, conn: Conn
) -> None:
    """Delete an achievement."""
    service.delete(conn=conn, principal=principal, achievement_id=achievement_id)


@router.post("/{achievement_id}/withdraw", response_model=AchievementRead)
def withdraw_achievement(
    achievement_id: AchievementId, principal: CurrentPrincipal, conn: Conn
) -> AchievementRead:
    """Withdraw an achievement: it leaves search, matching, exports and the public pages."""
    return service.withdraw(conn=conn, principal=principal, achievement_id=achievement_id)


@router.post("/{achievement_id}/restore", response_model=AchievementRead)
def restore_achievement(
    achievement_id: AchievementId, principal: CurrentPrincipal, conn: Conn
) -> AchievementRead:
    """Publish a withdrawn achievement again."""
    return service.restore(conn=conn, principal=principal, achievement_id=achievement_id)
