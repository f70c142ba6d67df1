"""Messages (消息): one thread per (problem, expert) for the enterprise, the expert and staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.conversations import service
from greenplat.core.conversations.models import MessageCreate, MessageRead, Thread

router = APIRouter(prefix="/v1/messages", tags=["messages 消息"])
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/{problem_id}/{expert_id}", response_model=Thread)
def get_thread(
    problem_id: RecordId, expert_id: RecordId, principal: CurrentPrincipal, conn: Conn
) -> Thread:
    """The thread of a pair (404 to anyone who is not a side of it)."""
    return service.get_thread(
        conn=conn, principal=principal, problem_id=problem_id, expert_id=expert_id
    )


@router.post(
    "/{problem_id}/{expert_id}", response_model=MessageRead, status_code=status.HTTP_201_CREATED
)
def post_message(
    problem_id: RecordId,
    expert_id: RecordId,
    data: MessageCreate,
    principal: CurrentPrincipal,
    conn: Conn,
) -> MessageRead:
    """Write in a pair's thread (plain text, at most 5,000 characters)."""
    return service.post(
        conn=conn, principal=principal, problem_id=problem_id, expert_id=expert_id, data=data
    )
