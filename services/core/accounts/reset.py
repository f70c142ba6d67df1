"""Password reset by e-mail link: single-use, expiring, stored only as a hash.

request_reset() answers the same whether or not an account has the e-mail address (the caller
shows one message either way, and throttle.requesting_reset counts every request), so the
form reveals no account. The link goes through the e-mail outbox, whose copy of the body is
blanked once sent. confirm_reset() sets a new password through the password policy, uses up
every open link of the account and ends all its sessions.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from greenplat.core.accounts import service as accounts
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput
from greenplat.core.notifications import mail
from greenplat.core.settings import Settings

# Accounts sharing one e-mail address each get a link, up to this many.
MAX_ACCOUNTS = 5
RESET_PATH = "/password/reset/"
_SUBJECT = ("绿平台：重设密码", "greenplat: reset your password")
_BODY = (
    "你好，{username}：\n\n有人（希望是你）请求重设绿平台账号「{username}」的密码。"
    "请在 {minutes} 分钟内打开下面的链接设置新密码，链接只能使用一次：\n\n{link}\n\n"
    "如果不是你本人操作，请忽略这封邮件，你的密码不会改变。",
    "Hello {username},\n\nSomeone (we hope you) asked to reset the password of the greenplat "
    "account “{username}”. Open this link within {minutes} minutes to choose a new password; "
    "it works once:\n\n{link}\n\nIf it was not you, ignore this e-mail: your password stays "
    "as it is.",
)
_BAD_LINK = (
    "重设链接无效、已使用或已过期，请重新申请 / the reset link is invalid, used or expired:"
    " ask for a new one"
)


def _message(row: dict[str, Any], link: str, minutes: int) -> tuple[str, str]:
    pick = 1 if row["language"] == "en" else 0
    return _SUBJECT[pick], _BODY[pick].format(username=row["username"], link=link, minutes=minutes)


def request_reset(*, conn: Connection, settings: Settings, email: str) -> None:
    """Mail a reset link to each active account with this e-mail address (none: nothing)."""
    rows = conn.execute(
        "SELECT id, username, email, language, region FROM users"
        " WHERE lower(email) = lower(%s) AND active ORDER BY id LIMIT %s",
        (email.strip(), MAX_ACCOUNTS),
    ).fetchall()
    minutes = settings.reset_link_minutes
    for row in rows:
        token = secrets.token_urlsafe(32)
        conn.execute(
            "INSERT INTO password_resets (token_hash, user_id, expires_at)"
            " VALUES (%s, %s, now() + %s)",
            (accounts.token_hash(token), row["id"], timedelta(minutes=minutes)),
        )
        link = settings.public_url.rstrip("/") + RESET_PATH + token
        subject, body = _message(row, link, minutes)
        mail.queue_mail(
            conn,
            user_id=row["id"],
            to_address=row["email"],
            subject=subject,
            body=body,
            secret=True,
        )
        audit.record(conn, actor=row["username"], action="password_reset_requested",
                     library="users", record_id=row["id"], region=row["region"])  # fmt: skip


def _open_link(conn: Connection, token: str, *, lock: bool = False) -> dict[str, Any] | None:
    lock_sql = " FOR UPDATE OF r" if lock else ""
    return conn.execute(
        "SELECT r.user_id, u.username, u.region FROM password_resets r"
        " JOIN users u ON u.id = r.user_id WHERE r.token_hash = %s AND r.used_at IS NULL"
        f" AND r.expires_at > now() AND u.active{lock_sql}",
        (accounts.token_hash(token),),
    ).fetchone()


def link_works(*, conn: Connection, token: str) -> bool:
    """Whether a reset link is unused, unexpired and of an active account."""
    return _open_link(conn, token) is not None


def confirm_reset(*, conn: Connection, token: str, password: str) -> str:
    """Set the new password of the link's account; returns its username.

    InvalidInput (field token) for a link unknown, used or expired; (field password) for a
    password the policy refuses, and then the link still works."""
    row = _open_link(conn, token, lock=True)
    if row is None:
        raise InvalidInput(_BAD_LINK, field="token")
    password_hash = accounts.hash_password(password, username=row["username"])
    user_id = row["user_id"]
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))
    conn.execute(
        "UPDATE password_resets SET used_at = now() WHERE user_id = %s AND used_at IS NULL",
        (user_id,),
    )
    conn.execute("DELETE FROM api_tokens WHERE user_id = %s", (user_id,))
    audit.record(conn, actor=row["username"], action="password_reset", library="users",
                 record_id=user_id, region=row["region"])  # fmt: skip
    return row["username"]
