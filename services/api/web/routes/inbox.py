"""The expert's inbox of matched requests and invitations: interested, or decline with reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.errors import InvalidInput
from greenplat.core.problems import service as problems
from greenplat.matcher.relevance import LEVELS

from .. import matching
from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


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
    me = v.require("expert", "inbox")
    if not 1 <= page <= 1000:
        raise InvalidInput("页码须在 1 到 1000 之间 / page must be 1..1000", field="page")
    if level and level not in LEVELS:
        raise InvalidInput(f"未知的匹配度 {level} / unknown level", field="level")
    if len(region) > 200 or len(industry) > 200:
        raise InvalidInput("筛选条件过长 / filter too long", field="region")
    filters = {"region": region.strip(), "industry": industry.strip(), "level": level}
    items, more = matching.inbox(v.platform, v.conn, me, page=page, **filters)
    return render(
        v, "expert/inbox.html", items=items, page=page, more=more, filters=filters, levels=LEVELS
    )


@router.get("/expert/invitations", include_in_schema=False)
def invitations(v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("expert", "inbox")
    with v.transaction() as conn:
        items = matching.invitations(conn, me)
    return render(v, "expert/invitations.html", items=items)


@router.post("/expert/respond/{external_id}", include_in_schema=False)
async def respond(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Say 有意向 (with a proposal), or decline with a reason."""
    me = v.require("expert", "inbox")
    data = await form_of(v)
    action = str(data.get("action") or "")
    if action not in matching.ANSWERS:
        raise InvalidInput("未知操作 / unknown action", field="action")
    if me.expert_id is None:
        raise InvalidInput("你的账号未关联专家档案 / no expert profile", field="expert_id")
    with v.transaction() as conn:
        problem_id = problems.id_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
        matching.act(conn, me, problem_id, me.expert_id, action, data)
    back = data.get("back") if data.get("back") in ("inbox", "invitations") else "inbox"
    return redirect(f"/expert/{back}?ok=flash.{action}")
