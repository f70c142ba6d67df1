"""Accounts, managed by platform admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.accounts import service
from greenplat.core.accounts.models import Role, UserCreate, UserPage, UserRead, UserUpdate
from greenplat.core.permissions import require_any

router = APIRouter(prefix="/v1/users", tags=["users 用户"])

UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=UserPage)
def list_users(
    principal: CurrentPrincipal,
    conn: Conn,
    role: Role | None = None,
    region: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UserPage:
    """Accounts, by id."""
    return service.list_users(
        conn=conn, principal=principal, role=role, region=region, page=page, page_size=page_size
    )


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, principal: CurrentPrincipal, conn: Conn) -> UserRead:
    """Create an account with any role."""
    require_any(principal, "user", "manage")
    return service.create_user(conn=conn, **data.model_dump())


@router.get("/{user_id}", response_model=UserRead)
def get_user(user_id: UserId, principal: CurrentPrincipal, conn: Conn) -> UserRead:
    """One account."""
    require_any(principal, "user", "manage")
    return service.get_user_or_raise(conn=conn, user_id=user_id)


@router.patch("/{user_id}", response_model=UserRead)
def update_user(
    user_id: UserId, data: UserUpdate, principal: CurrentPrincipal, conn: Conn
) -> UserRead:
    """Change an account; a new password or deactivation ends its sessions."""
    return service.update_user(conn=conn, principal=principal, user_id=user_id, data=data)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: UserId, principal: CurrentPrincipal, conn: Conn) -> None:
    """Delete an account."""
    service.delete_user(conn=conn, principal=principal, user_id=user_id)
