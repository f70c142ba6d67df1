"""Organizations as their members and sub-centers see them: verification and join requests."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.errors import DomainError, InvalidInput
from greenplat.core.organizations import service as organizations
from greenplat.core.organizations.models import MembershipDecision
from greenplat.core.permissions import allows

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import describe, on_form
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/organizations", include_in_schema=False)
def organization_list(v: Viewer = Depends(signed_in)) -> Response:
    """The organizations the viewer may see, and the requests to join them it may decide."""
    return _page(v)


def _page(v: Viewer, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    me = v.require("organization", "read")
    with v.transaction() as conn:
        shown = organizations.list(conn=conn, principal=me)
        pending = organizations.pending_requests(conn=conn, principal=me)
    verifiable = {o.id for o in shown if allows(me, "organization", "verify", o.model_dump())}
    return render(
        v,
        "organizations.html",
        status=status,
        organizations=shown,
        pending=pending,
        verifiable=verifiable,
        errors=errors or {},
    )


def _refused(v: Viewer, error: DomainError) -> Response:
    """The list again with the refusal above it (a request decided meanwhile, ...)."""
    if not on_form(error):
        raise error
    return _page(v, {"form": describe(error, v.t)}, status=error.status)


@router.post("/organizations/{organization_id}/verify", include_in_schema=False)
async def verify(organization_id: int, v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("organization", "verify")
    await form_of(v)
    try:
        with v.transaction() as conn:
            organizations.verify(conn=conn, principal=me, organization_id=organization_id)
    except DomainError as error:
        return _refused(v, error)
    return redirect("/organizations?ok=flash.organization_verified")


@router.post("/organizations/{organization_id}/requests/{request_id}", include_in_schema=False)
async def decide(organization_id: int, request_id: int, v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("organization", "approve")
    data = await form_of(v)
    if data.get("decision") not in ("approve", "reject"):
        raise InvalidInput("请选择通过或拒绝 / choose approve or reject", field="decision")
    decision = MembershipDecision(decision=data["decision"])
    try:
        with v.transaction() as conn:
            organizations.decide_request(
                conn=conn,
                principal=me,
                organization_id=organization_id,
                request_id=request_id,
                data=decision,
            )
    except DomainError as error:
        return _refused(v, error)
    return redirect(f"/organizations?ok=flash.request_{decision.decision}d")
