"""A pair's message thread in the portal."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core import links
from greenplat.core.conversations import service as messages
from greenplat.core.conversations.models import MessageCreate
from greenplat.core.db import Connection
from greenplat.core.errors import DomainError
from greenplat.core.experts import service as experts
from greenplat.core.permissions import Principal
from greenplat.core.problems import service as problems

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline, on_form
from ..render import render

router = APIRouter(route_class=WebRoute)


def _pair(conn: Connection, me: Principal, problem_ref: str, expert_ref: str) -> tuple[int, int]:
    """The internal ids of the pair the path names by external ids (404 when unknown)."""
    problem_id = problems.id_by_external_id_or_raise(
        conn=conn, principal=me, external_id=problem_ref
    )
    expert = experts.get_by_external_id_or_raise(conn=conn, principal=me, external_id=expert_ref)
    return problem_id, expert.id


@router.get("/messages/{problem_ref}/{expert_ref}", include_in_schema=False)
def thread(
    problem_ref: str, expert_ref: str, conn: Conn, v: Viewer = Depends(signed_in)
) -> Response:
    """The thread, oldest first, with a box to write."""
    problem_id, expert_id = _pair(conn, v.me, problem_ref, expert_ref)
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


@router.post("/messages/{problem_ref}/{expert_ref}", include_in_schema=False)
async def write(problem_ref: str, expert_ref: str, conn: Conn, v: Viewer = Depends(signed_in)):
    """Add a message; a refused one stays in the box with the reason next to it."""
    data = await form_of(v)
    body = str(data.get("body") or "")
    problem_id, expert_id = _pair(conn, v.me, problem_ref, expert_ref)
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
    return redirect(f"{links.thread(problem_ref, expert_ref)}#end")
