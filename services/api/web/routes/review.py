"""The sub-center's review queue: submitted problems of its region, approved or returned."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemReview
from greenplat.matcher import announce

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..forms import parse
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/subcenter/review", include_in_schema=False)
def review_queue(v: Viewer = Depends(signed_in)) -> Response:
    """Problems awaiting review that the viewer may review, oldest first."""
    me = v.require("problem", "review")
    with v.transaction() as conn:
        # The read filter already limits a sub-center admin to its own region.
        page = problems.list(
            conn=conn, principal=me, status="submitted", sort="updated_at", page_size=100
        )
        returned = problems.list(
            conn=conn, principal=me, status="returned", sort="-updated_at", page_size=20
        )
    return render(v, "subcenter/review.html", page=page, returned=returned, errors={})


@router.post("/subcenter/review/{external_id}", include_in_schema=False)
async def review_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Approve or return one problem; returning needs a comment."""
    me = v.require("problem", "review")
    data = await form_of(v)
    decision, errors = parse(
        ProblemReview, {"decision": data.get("decision"), "comment": data.get("comment")}, v.t
    )
    if decision is None:
        raise _invalid(errors)
    with v.transaction() as conn:
        problem_id = problems.id_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
        reviewed = problems.review(conn=conn, principal=me, problem_id=problem_id, data=decision)
        if reviewed.status == "approved":
            announce.recommend_after_commit(v.platform, conn, problem_id)
    ok = "flash.approved" if decision.decision == "approve" else "flash.returned"
    return redirect(f"/subcenter/review?ok={ok}")


def _invalid(errors: dict[str, str]) -> Exception:
    from greenplat.core.errors import InvalidInput

    field, message = next(iter(errors.items()))
    return InvalidInput(message, field=field)
