"""The front door: what the platform is, its public figures and newest public records."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.experts import applications
from greenplat.core.stats import public

from ..deps import Viewer, WebRoute, redirect, viewer
from ..render import MENUS, render

router = APIRouter(route_class=WebRoute)


@router.get("/", include_in_schema=False)
def home(v: Viewer = Depends(viewer)) -> Response:
    """Visitors see the front door; accounts go to their main work (an expert whose sign-up
    waits for review, to its account page)."""
    if v.principal is not None:
        waiting = applications.get_own(conn=v.conn, principal=v.principal)
        if waiting is not None and waiting["status"] != "approved":
            return redirect("/account")
        return redirect(MENUS[v.principal.role][0][1])
    with v.transaction() as conn:
        figures = public.figures(conn=conn)
        latest = public.latest(conn=conn)
    return render(v, "landing.html", figures=figures, latest=latest)
