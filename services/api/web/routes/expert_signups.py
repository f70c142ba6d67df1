"""The sub-center's queue of experts who signed up in its region: approve, or reject with a
reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.errors import InvalidInput
from greenplat.core.experts import applications

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/subcenter/experts", include_in_schema=False)
def queue(v: Viewer = Depends(signed_in)) -> Response:
    """Experts' sign-ups waiting for the viewer's review, oldest first."""
    me = v.require("expert", "create")
    pending = applications.list_pending(conn=v.conn, principal=me)
    return render(v, "subcenter/experts.html", pending=pending)


@router.post("/subcenter/experts/{application_id}", include_in_schema=False)
async def decide(application_id: int, v: Viewer = Depends(signed_in)) -> Response:
    """Approve (the profile is created and public) or reject with a reason."""
    me = v.require("expert", "create")
    data = await form_of(v)
    decision = str(data.get("decision") or "")
    if decision not in ("approve", "reject"):
        raise InvalidInput("未知的审核结果 / unknown decision", field="decision")
    with v.transaction() as conn:
        applications.decide(
            conn=conn,
            principal=me,
            application_id=application_id,
            decision="approve" if decision == "approve" else "reject",
            reason=str(data.get("reason") or ""),
        )
    done = "approved" if decision == "approve" else "rejected"
    return redirect(f"/subcenter/experts?ok=flash.signup_expert_{done}")
