"""Near-duplicates: check a text before posting; list pairs found; merge or mark distinct."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.duplicates import review
from greenplat.core.duplicates.models import (
    DuplicateCheck,
    DuplicateCheckRead,
    DuplicateDecision,
    DuplicatePairRead,
    Library,
)
from greenplat.core.duplicates.service import warning

PairStatus = Literal["suspected", "merged", "distinct"]
router = APIRouter(prefix="/v1/duplicates", tags=["duplicates 重复检测"])


@router.post("/check", response_model=DuplicateCheckRead)
def check(data: DuplicateCheck, principal: CurrentPrincipal, conn: Conn) -> dict:
    """Records near-identical to this text, before it is submitted (nothing is stored)."""
    suspects = review.check(
        conn=conn,
        principal=principal,
        library=data.library,
        title=data.title,
        body=data.text,
        organization=data.organization,
    )
    return {
        "suspects": [asdict(s) for s in suspects],
        "warning": warning(data.library, suspects) if suspects else None,
    }


@router.get("/{library}", response_model=list[DuplicatePairRead])
def list_pairs(
    library: Library,
    principal: CurrentPrincipal,
    conn: Conn,
    state: Annotated[PairStatus, Query(alias="status")] = "suspected",
) -> list[dict]:
    """Pairs found on posting and import, in the principal's reach."""
    return review.list_pairs(conn=conn, principal=principal, library=library, status=state)


@router.post("/{library}/decisions", status_code=status.HTTP_204_NO_CONTENT)
def decide(
    library: Library, data: DuplicateDecision, principal: CurrentPrincipal, conn: Conn
) -> None:
    """Merge a record into the other (it then counts once) or mark the two distinct."""
    review.decide(conn=conn, principal=principal, library=library, **data.model_dump())
