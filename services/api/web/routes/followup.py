"""The sub-center's follow-up list: approved problems nobody answered, with a nudge."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core import links
from greenplat.core.problems import service as problems
from greenplat.matcher import followup

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/subcenter/followup", include_in_schema=False)
def waiting(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """Longest waiting first."""
    days = v.platform.settings.followup_days
    rows = followup.waiting(conn=conn, principal=v.me, days=days)
    return render(v, "subcenter/followup.html", rows=rows, days=days)


@router.post("/subcenter/followup/{external_id}/nudge", include_in_schema=False)
async def nudge(external_id: str, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """One click: remind the problem's recommended and invited experts."""
    await form_of(v)
    k = max(v.platform.settings.notify_top_experts, 1)
    problem_id = problems.id_by_external_id_or_raise(
        conn=conn, principal=v.me, external_id=external_id
    )
    followup.nudge(v.platform.matcher, conn, v.me, problem_id, k)
    return redirect(links.anchor("/subcenter/followup?ok=flash.nudged", "p", external_id))
