"""A pair's message thread in the portal."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core.conversations import service as messages
from greenplat.core.conversations.models import MessageCreate
from greenplat.core.db import Connection
from greenplat.core.errors import DomainError

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline, on_form
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/messages/{problem_id}/{expert_id}", include_in_schema=False)
def thread(problem_id: int, expert_id: int, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The thread, oldest first, with a box to write."""
    return _thread_page(v, conn, problem_id, expert_id)


def _thread_page(
    v: Viewer,
    conn: Connection,
    problem_id: int,
    expert_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = messages.get_thread(
        conn=conn, principal=v.me, problem_id=problem_id, expert_id=expert_id
    )
    return render(
        v,
        "messages/thread.html",
        status=status,
        thread=found,
        values=values or {},
        errors=errors or {},
    )


@router.post("/messages/{problem_id}/{expert_id}", include_in_schema=False)
async def write(problem_id: int, expert_id: int, conn: Conn, v: Viewer = Depends(signed_in)):
    """Add a message; a refused one stays in the box with the reason next to it."""
    data = await form_of(v)
    body = str(data.get("body") or "")
    try:
        with v.transaction():
            messages.post(
                conn=conn,
                principal=v.me,
                problem_id=problem_id,
                expert_id=expert_id,
                data=MessageCreate(body=body),
            )
    except DomainError as error:
        if not on_form(error):
            raise
        return _thread_page(
            v,
            conn,
            problem_id,
            expert_id,
            values={"body": body},
            errors=inline(error, v.t),
            status=error.status,
        )
    return redirect(f"/messages/{problem_id}/{expert_id}#end")
