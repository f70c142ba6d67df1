"""Search before posting: free text against any library, with reasons."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from greenplat.api.deps import Conn, CurrentPrincipal, PlatformDep
from greenplat.matcher.models import MatchPage

router = APIRouter(prefix="/v1/search", tags=["search 检索"])

Filter = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=MatchPage)
def search(
    principal: CurrentPrincipal,
    platform: PlatformDep,
    conn: Conn,
    text: Annotated[str, Query(min_length=1, max_length=5000)],
    library: Literal["problems", "achievements", "experts"],
    mode: Literal["hybrid", "lexical", "vector"] = "hybrid",
    region: Filter = None,
    industry: Filter = None,
    discipline: Filter = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> MatchPage:
    """Problems, achievements or experts matching a text (problems: only those you may read)."""
    return platform.matcher.search(
        text,
        library,
        conn=conn,
        principal=principal,
        page=page,
        page_size=page_size,
        mode=mode,
        region=region,
        industry=industry,
        discipline=discipline,
    )
