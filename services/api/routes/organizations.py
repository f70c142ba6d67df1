"""Organizations: who may see them, their verification and requests to join them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.organizations import service
from greenplat.core.organizations.models import (
    MembershipDecision,
    MembershipRequestRead,
    OrganizationCreate,
    OrganizationKind,
    OrganizationRead,
)

router = APIRouter(prefix="/v1/organizations", tags=["organizations 组织"])

OrganizationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=list[OrganizationRead])
def list_organizations(
    principal: CurrentPrincipal,
    conn: Conn,
    kind: OrganizationKind | None = None,
    region: str | None = None,
    verified: bool | None = None,
) -> list[OrganizationRead]:
    """The organizations the reader may see: its own; a sub-center its region's; admins all."""
    return service.list(conn=conn, principal=principal, kind=kind, region=region, verified=verified)


@router.post("", response_model=OrganizationRead, status_code=status.HTTP_201_CREATED)
def create_organization(
    data: OrganizationCreate, principal: CurrentPrincipal, conn: Conn
) -> OrganizationRead:
    """Register an organization (platform admins)."""
    return service.create(conn=conn, principal=principal, data=data)


@router.post("/{organization_id}/verify", response_model=OrganizationRead)
def verify_organization(
    organization_id: OrganizationId, principal: CurrentPrincipal, conn: Conn
) -> OrganizationRead:
    """Verify an organization registered by sign-up (its sub-center)."""
    return service.verify(conn=conn, principal=principal, organization_id=organization_id)


@router.get("/{organization_id}/requests", response_model=list[MembershipRequestRead])
def list_requests(
    organization_id: OrganizationId, principal: CurrentPrincipal, conn: Conn
) -> list[MembershipRequestRead]:
    """Pending requests to join the organization (its members, its sub-center)."""
    return service.list_requests(conn=conn, principal=principal, organization_id=organization_id)


@router.post("/{organization_id}/requests/{request_id}", response_model=MembershipRequestRead)
def decide_request(
    organization_id: OrganizationId,
    request_id: RequestId,
    data: MembershipDecision,
    principal: CurrentPrincipal,
    conn: Conn,
) -> MembershipRequestRead:
    """Approve or reject a request to join the organization."""
    return service.decide_request(
        conn=conn,
        principal=principal,
        organization_id=organization_id,
        request_id=request_id,
        data=data,
    )
