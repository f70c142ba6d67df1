"""Suspected duplicates for sub-centers: merge a pair (it then counts once) or mark it distinct."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.duplicates import review

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/subcenter/duplicates", include_in_schema=False)
def duplicates_page(v: Viewer = Depends(signed_in)) -> Response:
    """The suspected pairs of problems and achievements in the viewer's reach."""
    me = v.require("problem", "review")
    with v.transaction() as conn:
        pairs = {
            library: review.list_pairs(conn=conn, principal=me, library=library)
            for library in review.RESOURCE
            if v.may(review.RESOURCE[library], review.DECIDE[library])
        }
    return render(v, "subcenter/duplicates.html", pairs=pairs)


@router.post("/subcenter/duplicates", include_in_schema=False)
async def decide(v: Viewer = Depends(signed_in)) -> Response:
    """Merge record into other, or mark the two distinct (audited)."""
    me = v.require("problem", "review")
    data = await form_of(v)
    with v.transaction() as conn:
        review.decide(
            conn=conn,
            principal=me,
            library=str(data.get("library") or ""),
            record=str(data.get("record") or ""),
            other=str(data.get("other") or ""),
            decision=str(data.get("decision") or ""),
        )
    return redirect("/subcenter/duplicates?ok=flash.duplicate_decided")
