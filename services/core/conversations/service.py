"""Messages: the enterprise and the expert of a pair talk in one thread per (problem, expert).

Who may read and write is who may act for either side of the pair (the problem's owner, the
sub-center of its region and platform staff for the enterprise side; the expert's own
account). Anyone else learns nothing, not even that the thread exists. A thread opens once
the pair is in the pipeline (invited, or the expert answered). New messages notify the other
side without their text.
"""

from __future__ import annotations

from typing import Any

from greenplat.core import links
from greenplat.core.contacts.service import accounts_of_expert, for_pair, owners_of
from greenplat.core.conversations.models import BODY_LIMIT, MessageCreate, MessageRead, Thread
from greenplat.core.db import Connection, one
from greenplat.core.errors import InvalidInput, InvalidTransition, NotFound
from greenplat.core.notifications import service as notifications
from greenplat.core.permissions import Principal, allows, owns


def _pair(
    conn: Connection, principal: Principal, problem_id: int, expert_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(problem, expert) when the principal speaks for a side of the pair, else NotFound."""
    problem = conn.execute("SELECT * FROM problems WHERE id = %s", (problem_id,)).fetchone()
    expert = conn.execute("SELECT * FROM experts WHERE id = %s", (expert_id,)).fetchone()
    if problem is None or expert is None:
        raise NotFound("对话不存在 / thread not found")
    if not (allows(principal, "problem", "match", problem) or owns(principal, "expert", expert)):
        raise NotFound("对话不存在 / thread not found")
    return problem, expert


def _open(conn: Connection, problem_id: int, expert_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM match_feedback WHERE problem_id = %s AND expert_id = %s"
        " AND action NOT IN ('viewed', 'declined') LIMIT 1",
        (problem_id, expert_id),
    ).fetchone()
    return row is not None


def get_thread(
    *, conn: Connection, principal: Principal, problem_id: int, expert_id: int
) -> Thread:
    """The pair's messages, oldest first."""
    problem, expert = _pair(conn, principal, problem_id, expert_id)
    rows = conn.execute(
        "SELECT m.id, m.author_id, m.author_role, m.body, m.created_at,"
        " coalesce(nullif(u.display_name, ''), u.username, '') AS author"
        " FROM messages m LEFT JOIN users u ON u.id = m.author_id"
        " WHERE m.problem_id = %s AND m.expert_id = %s ORDER BY m.created_at, m.id",
        (problem_id, expert_id),
    ).fetchall()
    items = [MessageRead(**r, mine=r["author_id"] == principal.id) for r in rows]
    return Thread(
        problem_id=problem_id,
        problem_external_id=problem["external_id"],
        problem_title=problem["title"],
        expert_id=expert_id,
        expert_external_id=expert["external_id"],
        expert_name=expert["name"],
        items=items,
        contacts=for_pair(conn=conn, principal=principal, problem=problem, expert_id=expert_id),
    )


def _check(data: MessageCreate) -> str:
    body = data.body.strip()
    if not body:
        raise InvalidInput(
            "请输入消息内容 / write a message", field="body", key="error.message_empty"
        )
    if len(body) > BODY_LIMIT:
        raise InvalidInput(
            f"消息过长（最多 {BODY_LIMIT} 字）/ the message is too long (at most {BODY_LIMIT})",
            field="body",
            key="error.too_long",
            params={"max": BODY_LIMIT, "n": len(body)},
        )
    return body


def post(
    *,
    conn: Connection,
    principal: Principal,
    problem_id: int,
    expert_id: int,
    data: MessageCreate,
) -> MessageRead:
    """Add a message to the pair's thread and notify the other side."""
    body = _check(data)
    problem, expert = _pair(conn, principal, problem_id, expert_id)
    if not _open(conn, problem_id, expert_id):
        raise InvalidTransition("邀请或回应之后才能发消息 / messages open after an invitation")
    row = one(
        conn,
        "INSERT INTO messages (problem_id, expert_id, author_id, author_role, body)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id, author_role, body, created_at",
        (problem_id, expert_id, principal.id, principal.role, body),
    )
    both = accounts_of_expert(conn, expert_id) + owners_of(conn, problem)
    notifications.notify(
        conn,
        recipients=[u for u in both if u["id"] != principal.id],
        kind="message",
        problem=problem,
        link=links.thread(problem["external_id"], expert["external_id"]),
    )
    return MessageRead(**row, author=principal.username, mine=True)
