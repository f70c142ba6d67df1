"""Problems in the portal: an enterprise posts, edits, submits and follows its problems."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core import links
from greenplat.core.duplicates import review
from greenplat.core.duplicates.service import warning
from greenplat.core.errors import DomainError, InvalidInput, NotFound
from greenplat.core.experts import service as experts
from greenplat.core.permissions import allows, only_own
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemCreate, ProblemUpdate
from greenplat.core.reference import service as reference
from greenplat.core.regions import service as regions
from greenplat.matcher.board import board
from greenplat.matcher.models import CONTRACT_KINDS

from .. import matching
from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline, on_form
from ..forms import checkbox, only, parse
from ..render import render

router = APIRouter(route_class=WebRoute)
FORM_FIELDS = (
    "title",
    "description",
    "keywords",
    "industry",
    "region",
    "budget_wan",
    "deadline",
    "confidential",
    "public_summary",
)


@router.get("/enterprise/problems", include_in_schema=False)
def my_problems(v: Viewer = Depends(signed_in), status: str | None = None) -> Response:
    """The enterprise's own problems with their status."""
    me = v.require("problem", "create")
    with v.transaction() as conn:
        page = problems.list(
            conn=conn,
            principal=me,
            own=only_own(me, "problem", "create"),
            status=status or None,
            page_size=100,
        )
        counts = matching.response_counts(conn, [p.id for p in page.items])
    return render(v, "problems/mine.html", page=page, counts=counts, status_filter=status or "")


def _form_values(data: dict[str, Any]) -> dict[str, Any]:
    values = only(data, FORM_FIELDS)
    values["confidential"] = checkbox(data, "confidential")
    return values


def _form_page(v: Viewer, *, problem: Any, values: dict, errors: dict, status: int = 200):
    with v.transaction() as conn:
        region_list = regions.list_regions(conn=conn)
        industries = reference.choices(conn=conn, kind="industry")
    return render(
        v,
        "problems/form.html",
        status=status,
        problem=problem,
        values=values,
        errors=errors,
        regions=region_list,
        industries=industries,
    )


@router.get("/enterprise/problems/new", include_in_schema=False)
def new_problem(v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("problem", "create")
    return _form_page(v, problem=None, values={"region": me.region or ""}, errors={})


def _save(v: Viewer, problem_id: int | None, data: dict[str, Any]) -> str:
    """Create or update from the form, then submit when asked; returns the external id."""
    me = v.me
    values = _form_values(data)
    parsed, errors = (
        parse(ProblemCreate, values, v.t)
        if problem_id is None
        else parse(ProblemUpdate, values, v.t)
    )
    if parsed is None:
        raise _FormInvalid(values, errors)
    try:
        with v.transaction() as conn:
            if data.get("action") == "submit" and not data.get("confirm_duplicate"):
                _warn_of_duplicates(conn, me, problem_id, values)
            if isinstance(parsed, ProblemCreate):
                saved = problems.create(conn=conn, principal=me, data=parsed)
            else:
                assert problem_id is not None  # a ProblemUpdate is parsed for a problem only
                saved = problems.update(conn=conn, principal=me, problem_id=problem_id, data=parsed)
            if data.get("action") == "submit":
                problems.submit(conn=conn, principal=me, problem_id=saved.id)
    except DomainError as error:
        if not on_form(error):
            raise
        raise _FormInvalid(values, inline(error, v.t), error.status) from error
    return saved.external_id


def _warn_of_duplicates(conn: Any, me: Any, problem_id: int | None, values: dict) -> None:
    """Before a submission: 与已有需求 PRB-… 高度相似, unless the poster confirmed it."""
    suspects = review.check(
        conn=conn,
        principal=me,
        library="problems",
        title=str(values.get("title") or ""),
        body=str(values.get("description") or ""),
        organization=values.get("organization") or None,
        exclude_id=problem_id,
    )
    if suspects:
        raise _FormInvalid(values, {"duplicate": warning("problems", suspects)})


class _FormInvalid(Exception):
    def __init__(self, values: dict, errors: dict, status: int = 422) -> None:
        self.values, self.errors, self.status = values, errors, status


@router.post("/enterprise/problems/new", include_in_schema=False)
async def create_problem(v: Viewer = Depends(signed_in)) -> Response:
    v.require("problem", "create")
    data = await form_of(v)
    try:
        external_id = _save(v, None, data)
    except _FormInvalid as bad:
        return _form_page(v, problem=None, values=bad.values, errors=bad.errors, status=bad.status)
    ok = "flash.submitted" if data.get("action") == "submit" else "flash.draft_saved"
    return redirect(f"{links.problem(external_id)}?ok={ok}")


def _problem_id(v: Viewer, external_id: str) -> int:
    """The internal id of the addressed problem the viewer may read (404 otherwise)."""
    with v.transaction() as conn:
        return problems.id_by_external_id_or_raise(
            conn=conn, principal=v.me, external_id=external_id
        )


@router.get("/problems/{external_id}/edit", include_in_schema=False)
def edit_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("problem", "update")
    with v.transaction() as conn:
        problem = problems.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
        if not allows(me, "problem", "update", problem.model_dump()):
            raise problems_forbidden()
    values = problem.model_dump()
    values["keywords"] = "；".join(problem.keywords)
    values["budget_wan"] = "" if problem.budget_wan is None else str(problem.budget_wan)
    values["deadline"] = problem.deadline.isoformat() if problem.deadline else ""
    values = {k: ("" if val is None else val) for k, val in values.items()}
    return _form_page(v, problem=problem, values=values, errors={})


def problems_forbidden() -> DomainError:
    from greenplat.core.errors import Forbidden

    return Forbidden("你无权修改该需求 / you may not edit this problem")


@router.post("/problems/{external_id}/edit", include_in_schema=False)
async def update_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("problem", "update")
    data = await form_of(v)
    with v.transaction() as conn:
        problem = problems.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
    try:
        saved = _save(v, problem.id, data)
    except _FormInvalid as bad:
        return _form_page(
            v, problem=problem, values=bad.values, errors=bad.errors, status=bad.status
        )
    ok = "flash.submitted" if data.get("action") == "submit" else "flash.draft_saved"
    return redirect(f"{links.problem(saved)}?ok={ok}")


@router.get("/problems/{external_id}", include_in_schema=False)
def show_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """A problem as the viewer may see it; owners and staff also see matches and answers."""
    return problem_page(v, external_id)


def problem_page(
    v: Viewer, external_id: str, *, failed: dict | None = None, status: int = 200
) -> Response:
    """The problem's page; `failed` puts a refused form's message and text back in place."""
    me = v.me
    with v.transaction() as conn:
        problem = problems.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
        problem_id = problem.id
        record = problem.model_dump()
        full = not problem.redacted and allows(me, "problem", "match", record)
        events = problems.events(conn=conn, principal=me, problem_id=problem_id) if full else []
        answers = (
            board(v.platform.matcher, conn=conn, principal=me, problem_id=problem_id)
            if full
            else []
        )
        mine = matching.my_pair(conn, me, record) if problem.status in problems.MATCHING else None
    return render(
        v,
        "problems/show.html",
        status=status,
        problem=problem,
        full=full,
        events=events,
        answers=answers,
        may_edit=problems.editable(me, record),
        transitions=problems.allowed_transitions(me, record),
        recommending=problem.status in problems.MATCHING,
        status_note=problems.status_note(record),
        contract_kinds=CONTRACT_KINDS,
        mine=mine,
        failed=failed or {},
    )


@router.get("/problems/{external_id}/recommendations", include_in_schema=False)
def recommendations(
    external_id: str, v: Viewer = Depends(signed_in), fragment: int = 0
) -> Response:
    """Experts and achievements for the problem, with reasons (a fragment, or a whole page)."""
    me = v.me
    with v.transaction() as conn:
        problem = problems.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
    recs = matching.recommend_for_problem(v.platform, v.conn, me, problem.id)
    template = "problems/_recs.html" if fragment else "problems/recommendations.html"
    return render(v, template, problem=problem, recs=recs)


@router.post("/problems/{external_id}/submit", include_in_schema=False)
async def submit_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    await form_of(v)
    problem_id = _problem_id(v, external_id)
    with v.transaction() as conn:
        problems.submit(conn=conn, principal=v.me, problem_id=problem_id)
    return redirect(f"{links.problem(external_id)}?ok=flash.submitted")


@router.post("/problems/{external_id}/close", include_in_schema=False)
async def close_problem(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    await form_of(v)
    problem_id = _problem_id(v, external_id)
    with v.transaction() as conn:
        problems.close(conn=conn, principal=v.me, problem_id=problem_id)
    return redirect(f"{links.problem(external_id)}?ok=flash.closed")


def _expert_id(v: Viewer, data: dict[str, Any]) -> int:
    """The internal id of the expert the form names by external id."""
    external_id = str(data.get("expert_id") or "").strip()
    if not external_id:
        raise InvalidInput("请选择专家 / choose an expert", field="expert_id")
    try:
        with v.transaction() as conn:
            return experts.get_by_external_id_or_raise(
                conn=conn, principal=v.me, external_id=external_id
            ).id
    except NotFound as error:
        raise InvalidInput(error.message, field="expert_id") from None


@router.post("/problems/{external_id}/invite", include_in_schema=False)
async def invite_expert(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Invite a recommended expert to answer the problem, with a personal note."""
    data = await form_of(v)
    problem_id, expert_id = _problem_id(v, external_id), _expert_id(v, data)
    with v.transaction() as conn:
        matching.act(conn, v.me, problem_id, expert_id, "invited", data)
    return redirect(f"{links.problem(external_id)}?ok=flash.invited#experts")


@router.post("/problems/{external_id}/feedback", include_in_schema=False)
async def record_outcome(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """The enterprise side moves a pair along the pipeline: contacted, negotiating, deal."""
    data = await form_of(v)
    action = str(data.get("action") or "")
    problem_id, expert_id = _problem_id(v, external_id), _expert_id(v, data)
    try:
        with v.transaction() as conn:
            matching.act(conn, v.me, problem_id, expert_id, action, data)
    except DomainError as error:
        if not on_form(error):
            raise
        failed = {"expert": str(data.get("expert_id") or ""), "action": action, "values": data}
        failed["errors"] = inline(error, v.t)
        return problem_page(v, external_id, failed=failed, status=error.status)
    return redirect(f"{links.problem(external_id)}?ok=flash.{action}#answers")
