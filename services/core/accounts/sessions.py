"""An account's own sessions (api_tokens rows) and its password: list, revoke, change."""

from __future__ import annotations

from argon2.exceptions import InvalidHashError, VerificationError

from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import SessionRead
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection, one
from greenplat.core.errors import InvalidInput, NotFound, SignInFailed
from greenplat.core.permissions import Principal


class WrongPassword(SignInFailed):
    """The current password given to change it is wrong (counted by the sign-in throttle)."""

    status = 422
    code = "invalid"


def _own(principal: Principal) -> int:
    if principal.id is None:
        raise NotFound("没有账号 / no account")
    return principal.id


def list_sessions(
    *, conn: Connection, principal: Principal, current_token: str | None
) -> list[SessionRead]:
    """The principal's unexpired sessions, the newest first; current marks the caller's."""
    current = accounts.token_hash(current_token or "")
    rows = conn.execute(
        "SELECT id, created_at, last_used_at, expires_at, user_agent, token_hash = %s AS current"
        " FROM api_tokens WHERE user_id = %s AND expires_at > now()"
        " ORDER BY coalesce(last_used_at, created_at) DESC, id DESC",
        (current, _own(principal)),
    ).fetchall()
    return [SessionRead(**r) for r in rows]


def revoke_session(*, conn: Connection, principal: Principal, session_id: int) -> None:
    """End one of the principal's sessions (another's is not found)."""
    row = conn.execute(
        "DELETE FROM api_tokens WHERE id = %s AND user_id = %s RETURNING id",
        (session_id, _own(principal)),
    ).fetchone()
    if row is None:
        raise NotFound(f"会话 {session_id} 不存在 / session {session_id} not found")
    audit.record(conn, actor=principal, action="session_revoke", library="users",
                 record_id=principal.id, region=principal.region)  # fmt: skip


def revoke_other_sessions(
    *, conn: Connection, principal: Principal, current_token: str | None
) -> int:
    """End every session of the principal but the caller's; returns how many ended."""
    ended = conn.execute(
        "DELETE FROM api_tokens WHERE user_id = %s AND token_hash <> %s",
        (_own(principal), accounts.token_hash(current_token or "")),
    ).rowcount
    audit.record(conn, actor=principal, action="session_revoke", library="users",
                 record_id=principal.id, region=principal.region, rows=ended)  # fmt: skip
    return ended


def change_password(
    *,
    conn: Connection,
    principal: Principal,
    current_password: str,
    new_password: str,
    current_token: str | None,
) -> None:
    """Set a new password (policy-checked) after the current one; other sessions end.

    Raises WrongPassword (a SignInFailed, so the sign-in throttle counts it) when the current
    password is wrong: a stolen session cannot guess it at leisure."""
    row = one(conn, "SELECT password_hash FROM users WHERE id = %s", (_own(principal),))
    try:
        accounts.verify_password(row["password_hash"], current_password)
    except (VerificationError, InvalidHashError):
        raise WrongPassword(
            "当前密码不正确 / the current password is wrong", field="current_password"
        ) from None
    try:
        password_hash = accounts.hash_password(new_password, username=principal.username)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="new_password") from None
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, principal.id))
    conn.execute(
        "DELETE FROM api_tokens WHERE user_id = %s AND token_hash <> %s",
        (principal.id, accounts.token_hash(current_token or "")),
    )
    audit.record(conn, actor=principal, action="password_change", library="users",
                 record_id=principal.id, region=principal.region)  # fmt: skip
