"""Problems (企业技术难题/需求): CRUD, list, and the review life cycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from greenplat.api.deps import Conn, CurrentPrincipal, PlatformDep
from greenplat.core.problems import service
from greenplat.core.problems.models import (
    ProblemCreate,
    ProblemEvent,
    ProblemPage,
    ProblemRead,
    ProblemReview,
    ProblemStatus,
    ProblemUpdate,
)
from greenplat.matcher import announce

router = APIRouter(prefix="/v1/problems", tags=["problems 需求"])

ProblemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Filter = Annotated[str | None, Query(max_length=200)]


@router.get("", response_model=ProblemPage)
def list_problems(
    principal: CurrentPrincipal,
    conn: Conn,
    region: Filter = None,
    industry: Filter = None,
    organization: Filter = None,
    status: ProblemStatus | None = None,
    q: Filter = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Annotated[
        str | None, Query(max_length=50, description=", ".join(service.SORTABLE))
    ] = None,
) -> ProblemPage:
    """Problems the signed-in account may read; '-field' sorts descending."""
    return service.list(
        conn=conn,
        principal=principal,
        region=region,
        industry=industry,
        organization=organization,
        status=status,
        q=q,
        page=page,
        page_size=page_size,
        sort=sort,
    )


@router.post("", response_model=ProblemRead, status_code=status.HTTP_201_CREATED)
def create_problem(data: ProblemCreate, principal: CurrentPrincipal, conn: Conn) -> ProblemRead:
    """Create a draft problem (an enterprise posts for its own organization)."""
    return service.create(conn=conn, principal=principal, data=data)


@router.get("/{problem_id}", response_model=ProblemRead)
def get_problem(problem_id: ProblemId, principal: CurrentPrincipal, conn: Conn) -> ProblemRead:
    """One problem; confidential text is withheld (redacted) unless the reader may see it."""
    return service.get_or_raise(conn=conn, principal=principal, problem_id=problem_id)


@router.patch("/{problem_id}", response_model=ProblemRead)
def update_problem(
    problem_id: ProblemId, data: ProblemUpdate, principal: CurrentPrincipal, conn: Conn
) -> ProblemRead:
    """Change fields of a problem."""
    return service.update(conn=conn, principal=principal, problem_id=problem_id, data=data)


@router.delete("/{problem_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_problem(problem_id: ProblemId, principal: CurrentPrincipal, conn: Conn) -> None:
    """Delete a problem."""
    service.delete(conn=conn, principal=principal, problem_id=problem_id)


@router.post("/{problem_id}/submit", response_model=ProblemRead)
def submit_problem(problem_id: ProblemId, principal: CurrentPrincipal, conn: Conn) -> ProblemRead:
    """Send a draft or returned problem to its sub-center for review."""
    return service.submit(conn=conn, principal=principal, problem_id=problem_id)


@router.post("/{problem_id}/review", response_model=ProblemRead)
def review_problem(
    problem_id: ProblemId,
    data: ProblemReview,
    principal: CurrentPrincipal,
    conn: Conn,
    platform: PlatformDep,
) -> ProblemRead:
    """The sub-center approves or returns a submitted problem (a return needs a comment)."""
    reviewed = service.review(conn=conn, principal=principal, problem_id=problem_id, data=data)
    if reviewed.status == "approved":
        announce.recommend_after_commit(platform, conn, problem_id)
    return reviewed


@router.post("/{problem_id}/close", response_model=ProblemRead)
def close_problem(problem_id: ProblemId, principal: CurrentPrincipal, conn: Conn) -> ProblemRead:
    """Close an approved or matched problem."""
    return service.close(conn=conn, principal=principal, problem_id=problem_id)


@router.post("/{problem_id}/match", response_model=ProblemRead)
def match_problem(problem_id: ProblemId, principal: CurrentPrincipal, conn: Conn) -> ProblemRead:
    """Mark an approved problem as matched."""
    return service.mark_matched(conn=conn, principal=principal, problem_id=problem_id)


@router.get("/{problem_id}/events", response_model=list[ProblemEvent])
def problem_events(
    problem_id: ProblemId, principal: CurrentPrincipal, conn: Conn
) -> list[ProblemEvent]:
    """The status history: who moved the problem when, and why."""
    return service.events(conn=conn, principal=principal, problem_id=problem_id)
