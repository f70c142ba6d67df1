"""Notifications: written in the transaction of the change they announce, read in-app.

notify() stores one row per recipient and marks whether an e-mail is still to be written
(at once or in the daily digest, by the recipient's choice). The mail worker (mail.py) turns
those into outbox rows after the commit; a NOTIFY on CHANNEL wakes it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from psycopg.types.json import Jsonb

from greenplat.core.accounts.service import to_principal
from greenplat.core.contacts.service import accounts_of_expert, owners_of, users_where
from greenplat.core.db import Connection, one
from greenplat.core.errors import NotFound
from greenplat.core.notifications import texts
from greenplat.core.notifications.models import (
    DEFAULT_MAIL,
    NotificationPage,
    NotificationRead,
    Preferences,
    PreferencesUpdate,
)
from greenplat.core.permissions import Principal, allows

CHANNEL = "greenplat_mail"
__all__ = ["accounts_of_expert", "notify", "owners_of", "reviewers_of"]


def reviewers_of(conn: Connection, problem: dict[str, Any]) -> builtins.list[dict]:
    """Staff of the problem's region who may review it (platform staff are not paged)."""
    rows = users_where(conn, "u.region = %s AND u.region IS NOT NULL", (problem.get("region"),))
    return [r for r in rows if allows(to_principal(r), "problem", "review", problem)]


def _mail_choices(conn: Connection, user_ids: builtins.list[int], kind: str) -> dict[int, str]:
    rows = conn.execute(
        "SELECT user_id, email FROM notification_preferences WHERE user_id = ANY(%s) AND kind = %s",
        (user_ids, kind),
    ).fetchall()
    return {r["user_id"]: r["email"] for r in rows}


def notify(
    conn: Connection,
    *,
    recipients: Iterable[dict],
    kind: str,
    problem: dict[str, Any],
    link: str,
    **params: Any,
) -> int:
    """Notify each recipient (a users row); the problem's title only to those who may read it."""
    users = {r["id"]: r for r in recipients}
    if not users:
        return 0
    choices = _mail_choices(conn, builtins.list(users), kind)
    for user_id, user in users.items():
        # The id a reader without access sees in the text: the external one, never the number.
        shown = {"problem_id": problem["external_id"], **params}
        if allows(to_principal(user), "problem", "read", problem):
            shown["title"] = problem["title"]
        choice = choices.get(user_id, DEFAULT_MAIL[kind])
        mail = "none" if choice == "off" or not user.get("email") else choice
        conn.execute(
            "INSERT INTO notifications (user_id, kind, problem_id, params, link, mail)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (user_id, kind, problem["id"], Jsonb(shown), link, mail),
        )
    conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
    return len(users)


def notify_account(conn: Connection, *, user: dict, variant: str, link: str, **params: Any) -> None:
    """Notify an account (a users row) about itself: no problem, nothing of anyone else's."""
    choice = _mail_choices(conn, [user["id"]], "account").get(user["id"], DEFAULT_MAIL["account"])
    mail = "none" if choice == "off" or not user.get("email") else choice
    conn.execute(
        "INSERT INTO notifications (user_id, kind, params, link, mail)"
        " VALUES (%s, 'account', %s, %s, %s)",
        (user["id"], Jsonb({"variant": variant, **params}), link, mail),
    )
    conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def _read(row: dict[str, Any], language: str) -> NotificationRead:
    return NotificationRead(**row, text=texts.line(row["kind"], row["params"], language))


def list(
    *,
    conn: Connection,
    principal: Principal,
    language: str,
    unread_only: bool = False,
    page: int = 1,
    page_size: int = 30,
) -> NotificationPage:
    """The principal's own notifications, newest first."""
    where = "user_id = %s" + (" AND read_at IS NULL" if unread_only else "")
    total = one(conn, f"SELECT count(*) AS n FROM notifications WHERE {where}", (principal.id,))[
        "n"
    ]
    rows = conn.execute(
        "SELECT id, kind, problem_id, params, link, created_at, read_at FROM notifications"
        f" WHERE {where} ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
        (principal.id, page_size, (page - 1) * page_size),
    ).fetchall()
    return NotificationPage(
        items=[_read(r, language) for r in rows],
        unread=unread_count(conn=conn, principal=principal),
        total=total,
        page=page,
        page_size=page_size,
    )


def unread_count(*, conn: Connection, principal: Principal) -> int:
    """How many of the principal's notifications are unread (the header's badge)."""
    row = one(
        conn,
        "SELECT count(*) AS n FROM notifications WHERE user_id = %s AND read_at IS NULL",
        (principal.id,),
    )
    return row["n"]


def mark_read(
    *, conn: Connection, principal: Principal, notification_id: int | None = None
) -> str | None:
    """Mark one notification (or all) read; returns the link of the one marked."""
    if notification_id is None:
        conn.execute(
            "UPDATE notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL",
            (principal.id,),
        )
        return None
    row = conn.execute(
        "UPDATE notifications SET read_at = coalesce(read_at, now())"
        " WHERE id = %s AND user_id = %s RETURNING link",
        (notification_id, principal.id),
    ).fetchone()
    if row is None:
        raise NotFound(f"通知 {notification_id} 不存在 / notification {notification_id} not found")
    return row["link"]


def preferences(*, conn: Connection, principal: Principal) -> Preferences:
    """The principal's e-mail choice for every kind."""
    rows = conn.execute(
        "SELECT kind, email FROM notification_preferences WHERE user_id = %s", (principal.id,)
    ).fetchall()
    return Preferences(email=DEFAULT_MAIL | {r["kind"]: r["email"] for r in rows})


def update_preferences(
    *, conn: Connection, principal: Principal, data: PreferencesUpdate
) -> Preferences:
    """Store the principal's e-mail choices."""
    for kind, choice in data.email.items():
        conn.execute(
            "INSERT INTO notification_preferences (user_id, kind, email) VALUES (%s, %s, %s)"
            " ON CONFLICT (user_id, kind) DO UPDATE SET email = EXCLUDED.email",
            (principal.id, kind, choice),
        )
    return preferences(conn=conn, principal=principal)
