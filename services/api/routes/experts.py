"""Experts (专家): CRUD and list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.experts import service
from greenplat.core.experts.models import ExpertCreate, ExpertPage, ExpertRead, ExpertUpdate

router = APIRouter(prefix="/v1/experts", tags=["experts 专家"])

ExpertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Filter = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=ExpertPage)
def list_experts(
    principal: CurrentPrincipal,
    conn: Conn,
    region: Filter = None,
    discipline: Filter = None,
    organization: Filter = None,
    q: Filter = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Annotated[
        str | None, Query(max_length=50, description=", ".join(service.SORTABLE))
    ] = None,
) -> ExpertPage:
    """Experts, filtered; '-field' sorts descending."""
    return service.list(
        conn=conn,
        principal=principal,
        region=region,
        discipline=discipline,
        organization=organization,
        q=q,
        page=page,
        page_size=page_size,
        sort=sort,
    )


@router.post("", response_model=ExpertRead, status_code=status.HTTP_201_CREATED)
def create_expert(data: ExpertCreate, principal: CurrentPrincipal, conn: Conn) -> ExpertRead:
    """Create an expert profile."""
    return service.create(conn=conn, principal=principal, data=data)


@router.get("/{expert_id}", response_model=ExpertRead)
def get_expert(expert_id: ExpertId, principal: CurrentPrincipal, conn: Conn) -> ExpertRead:
    """One expert."""
    return service.get_or_raise(conn=conn, principal=principal, expert_id=expert_id)


@router.patch("/{expert_id}", response_model=ExpertRead)
def update_expert(
    expert_id: ExpertId, data: ExpertUpdate, principal: CurrentPrincipal, conn: Conn
) -> ExpertRead:
    """Change fields of an expert profile (the expert itself, or its sub-center)."""
    return service.update(conn=conn, principal=principal, expert_id=expert_id, data=data)


@router.delete("/{expert_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_expert(expert_id: ExpertId, principal: CurrentPrincipal, conn: Conn) -> None:
    """Delete an expert profile."""
    service.delete(conn=conn, principal=principal, expert_id=expert_id)
