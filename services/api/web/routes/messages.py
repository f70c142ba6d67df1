"""A pair's message thread in the portal."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core.conversations import service as messages
from greenplat.core.conversations.models import MessageCreate

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/messages/{problem_id}/{expert_id}", include_in_schema=False)
def thread(problem_id: int, expert_id: int, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The thread, oldest first, with a box to write."""
    found = messages.get_thread(
        conn=conn, principal=v.me, problem_id=problem_id, expert_id=expert_id
    )
    return render(v, "messages/thread.html", thread=found)


@router.post("/messages/{problem_id}/{expert_id}", include_in_schema=False)
async def write(problem_id: int, expert_id: int, conn: Conn, v: Viewer = Depends(signed_in)):
    data = await form_of(v)
    messages.post(
        conn=conn,
        principal=v.me,
        problem_id=problem_id,
        expert_id=expert_id,
        data=MessageCreate(body=str(data.get("body") or "")),
    )
    return redirect(f"/messages/{problem_id}/{expert_id}#end")
