"""The sub-center's review queue: submitted problems of its region, approved or returned."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.errors import DomainError
from greenplat.core.fields import COMMENT_MAX
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemReview
from greenplat.matcher import announce

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline, on_form
from ..forms import parse
from ..render import render

router = APIRouter(route_class=WebRoute)


def _queue(v: Viewer, failed: dict[str, Any] | None = None, status: int = 200) -> Response:
    me = v.require("problem", "review")
    with v.transaction() as conn:
        # The read filter already limits a sub-center admin to its own region.
        page = problems.list(
            conn=conn, principal=me, status="submitted", sort="updated_at", page_size=100
        )
        returned = problems.list(
            conn=conn, principal=me, status="returned", sort="-updated_at", page_size=20
        )
    return render(
        v,
        "subcenter/review.html",
        status=status,
        page=page,
        returned=returned,
        failed=failed or {},
        limit=COMMENT_MAX,
    )


@router.get("/subcenter/review", include_in_schema=False)
def review_queue(v: Viewer = Depends(signed_in)) -> Response:
    """Problems awaiting review that the viewer may review, oldest first."""
    return _queue(v)


@router.post("/subcenter/review/{external_id}", include_in_schema=False)
async def review_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Approve or return one problem; returning needs a comment.

    A refusal shows the queue again with the message at that problem and the comment kept.
    """
    me = v.require("problem", "review")
    data = await form_of(v)
    comment = str(data.get("comment") or "")
    decision, errors = parse(
        ProblemReview, {"decision": data.get("decision"), "comment": comment or None}, v.t
    )
    if decision is None:
        return _queue(v, {"ref": external_id, "comment": comment, "errors": errors}, status=422)
    try:
        with v.transaction() as conn:
            problem_id = problems.id_by_external_id_or_raise(
                conn=conn, principal=me, external_id=external_id
            )
            reviewed = problems.review(
                conn=conn, principal=me, problem_id=problem_id, data=decision
            )
            if reviewed.status == "approved":
                announce.recommend_after_commit(v.platform, conn, problem_id)
    except DomainError as error:
        if not on_form(error):
            raise
        failed = {"ref": external_id, "comment": comment, "errors": inline(error, v.t)}
        return _queue(v, failed, status=error.status)
    ok = "flash.approved" if decision.decision == "approve" else "flash.returned"
    return redirect(f"/subcenter/review?ok={ok}")
