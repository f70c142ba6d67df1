"""Reference lists (regions, industries, disciplines): read, resolve, add aliases, merge."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.reference import merge, service
from greenplat.core.reference.models import (
    AliasCreate,
    Kind,
    MergeRead,
    MergeRequest,
    ReferenceListRead,
    ResolutionRead,
)

router = APIRouter(prefix="/v1/reference", tags=["reference 参考列表"])


@router.get("/{kind}", response_model=ReferenceListRead)
def read_list(kind: Kind, conn: Conn) -> dict:
    """The list with its source and aliases (public: forms offer its values)."""
    return service.describe_list(conn=conn, kind=kind)


@router.get("/{kind}/resolve", response_model=ResolutionRead)
def resolve(
    kind: Kind, conn: Conn, text: Annotated[str, Query(min_length=1, max_length=200)]
) -> dict[str, Any]:
    """The canonical value a text names, or the closest valid values."""
    return asdict(service.resolve(kind, text, conn=conn))


@router.post("/{kind}/aliases", response_model=ResolutionRead, status_code=status.HTTP_201_CREATED)
def add_alias(
    kind: Kind, data: AliasCreate, principal: CurrentPrincipal, conn: Conn
) -> dict[str, Any]:
    """Teach the platform another spelling of a value (platform admins)."""
    added = service.add_alias(conn=conn, principal=principal, kind=kind, **data.model_dump())
    return asdict(added)


@router.post("/{kind}/merge", response_model=MergeRead)
def merge_values(
    kind: Kind, data: MergeRequest, principal: CurrentPrincipal, conn: Conn
) -> dict[str, Any]:
    """Without expected: preview what moves. With the previewed count: merge (audited)."""
    pair = {"source": data.source, "target": data.target}
    if data.expected is None:
        result = merge.preview(conn=conn, principal=principal, kind=kind, **pair)
    else:
        result = merge.merge(
            conn=conn, principal=principal, kind=kind, expected=data.expected, **pair
        )
    done = data.expected is not None
    return {**asdict(result), "total": result.total, "done": done}
