"""The expert's inbox of matched requests and invitations: interested, or decline with reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core import links
from greenplat.core.errors import DomainError, InvalidInput
from greenplat.core.problems import service as problems
from greenplat.matcher.relevance import LEVELS

from .. import matching
from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline, on_form
from ..render import render
from .problems import problem_page

router = APIRouter(route_class=WebRoute)
# The pages an expert answers from, and so returns to.
BACK = ("inbox", "invitations", "problem")


@router.get("/expert/inbox", include_in_schema=False)
def inbox(
    v: Viewer = Depends(signed_in),
    page: int = 1,
    region: str = "",
    industry: str = "",
    level: str = "",
) -> Response:
    """Matched requests ranked by how well the expert fits each, with the reasons; paged and
    filtered by region, industry and the lowest fit level."""
    v.require("expert", "inbox")
    if not 1 <= page <= 1000:
        raise InvalidInput("页码须在 1 到 1000 之间 / page must be 1..1000", field="page")
    if level and level not in LEVELS:
        raise InvalidInput(f"未知的匹配度 {level} / unknown level", field="level")
    if len(region) > 200 or len(industry) > 200:
        raise InvalidInput("筛选条件过长 / filter too long", field="region")
    filters = {"region": region.strip(), "industry": industry.strip(), "level": level}
    return _inbox_page(v, page, filters)


def _inbox_page(
    v: Viewer, page: int, filters: dict[str, str], failed: dict | None = None, status: int = 200
) -> Response:
    me = v.require("expert", "inbox")
    items, more = matching.inbox(v.platform, v.conn, me, page=page, **filters)
    return render(
        v,
        "expert/inbox.html",
        status=status,
        items=items,
        page=page,
        more=more,
        filters=filters,
        levels=LEVELS,
        failed=failed or {},
    )


@router.get("/expert/invitations", include_in_schema=False)
def invitations(v: Viewer = Depends(signed_in)) -> Response:
    return _invitations_page(v)


def _invitations_page(v: Viewer, failed: dict | None = None, status: int = 200) -> Response:
    me = v.require("expert", "inbox")
    with v.transaction() as conn:
        items = matching.invitations(conn, me)
    return render(v, "expert/invitations.html", status=status, items=items, failed=failed or {})


@router.post("/expert/respond/{external_id}", include_in_schema=False)
async def respond(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Say 有意向 (with a proposal), or decline with a reason.

    A refusal shows the page the answer came from again, the message at the answer's form
    and everything typed kept.
    """
    me = v.require("expert", "inbox")
    data = await form_of(v)
    action = str(data.get("action") or "")
    if action not in matching.ANSWERS:
        raise InvalidInput("未知操作 / unknown action", field="action")
    if me.expert_id is None:
        raise InvalidInput("你的账号未关联专家档案 / no expert profile", field="expert_id")
    back = data.get("back") if data.get("back") in BACK else "inbox"
    try:
        with v.transaction() as conn:
            problem_id = problems.id_by_external_id_or_raise(
                conn=conn, principal=me, external_id=external_id
            )
            matching.act(conn, me, problem_id, me.expert_id, action, data)
    except DomainError as error:
        if not on_form(error):
            raise
        failed = {"pid": external_id, "action": action, "values": data}
        failed["errors"] = inline(error, v.t)
        if back == "invitations":
            return _invitations_page(v, failed, status=error.status)
        if back == "problem":
            return problem_page(v, external_id, failed=failed, status=error.status)
        return _inbox_page(v, 1, {"region": "", "industry": "", "level": ""}, failed, error.status)
    if back == "problem":
        return redirect(f"{links.problem(external_id)}?ok=flash.{action}")
    return redirect(f"/expert/{back}?ok=flash.{action}")
