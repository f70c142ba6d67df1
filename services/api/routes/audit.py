"""The audit log: browse and filter (platform admins: all; sub-centers: their region)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.audit import service
from greenplat.core.audit.models import AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit 审计日志"])
Text = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=AuditPage)
def list_entries(
    principal: CurrentPrincipal,
    conn: Conn,
    action: Text = None,
    actor: Text = None,
    library: Text = None,
    external_id: Text = None,
    region: Text = None,
    since: date | None = None,
    until: date | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> AuditPage:
    """Entries newest first."""
    filters = {"action": action, "actor": actor, "library": library, "external_id": external_id}
    filters |= {"region": region, "since": since, "until": until}
    return service.list_entries(
        conn=conn, principal=principal, page=page, page_size=page_size, **filters
    )
