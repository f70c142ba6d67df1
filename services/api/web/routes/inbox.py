"""The expert's inbox of matched requests and invitations: interested, or decline with reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.errors import InvalidInput

from .. import matching
from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/expert/inbox", include_in_schema=False)
def inbox(v: Viewer = Depends(signed_in)) -> Response:
    """Matched requests ranked by how well the expert fits each, with the reasons."""
    me = v.require("expert", "inbox")
    return render(v, "expert/inbox.html", items=matching.inbox(v.platform, v.conn, me))


@router.get("/expert/invitations", include_in_schema=False)
def invitations(v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("expert", "inbox")
    with v.transaction() as conn:
        items = matching.invitations(conn, me)
    return render(v, "expert/invitations.html", items=items)


@router.post("/expert/respond/{problem_id}", include_in_schema=False)
async def respond(problem_id: int, v: Viewer = Depends(signed_in)) -> Response:
    """Say 有意向 (with a proposal), or decline with a reason."""
    me = v.require("expert", "inbox")
    data = await form_of(v)
    action = str(data.get("action") or "")
    if action not in matching.ANSWERS:
        raise InvalidInput("未知操作 / unknown action", field="action")
    if me.expert_id is None:
        raise InvalidInput("你的账号未关联专家档案 / no expert profile", field="expert_id")
    with v.transaction() as conn:
        matching.act(conn, me, problem_id, me.expert_id, action, data)
    back = data.get("back") if data.get("back") in ("inbox", "invitations") else "inbox"
    return redirect(f"/expert/{back}?ok=flash.{action}")
