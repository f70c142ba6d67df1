"""Regions with their sub-centers (managed by platform admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.regions import service
from greenplat.core.regions.models import RegionCreate, RegionRead, RegionUpdate

router = APIRouter(prefix="/v1", tags=["regions 地区与分中心"])

RegionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/regions", response_model=list[RegionRead])
def list_regions(conn: Conn) -> list[RegionRead]:
    """Every region and its sub-center (public: the sign-up form offers them)."""
    return service.list_regions(conn=conn)


@router.post("/regions", response_model=RegionRead, status_code=status.HTTP_201_CREATED)
def create_region(data: RegionCreate, principal: CurrentPrincipal, conn: Conn) -> RegionRead:
    """Add a region with its sub-center."""
    return service.create_region(conn=conn, principal=principal, data=data)


@router.patch("/regions/{region_id}", response_model=RegionRead)
def update_region(
    region_id: RegionId, data: RegionUpdate, principal: CurrentPrincipal, conn: Conn
) -> RegionRead:
    """Rename a region or its sub-center."""
    return service.update_region(conn=conn, principal=principal, region_id=region_id, data=data)


@router.delete("/regions/{region_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_region(region_id: RegionId, principal: CurrentPrincipal, conn: Conn) -> None:
    """Remove a region that no account belongs to."""
    service.delete_region(conn=conn, principal=principal, region_id=region_id)
