"""Cookie sessions: the cookie carries an account token; forms carry a token against CSRF."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "gp_session"


def session_token(request: Request) -> str | None:
    """The account token the browser sent, if any."""
    return request.cookies.get(SESSION_COOKIE) or None


def set_session(response: Response, token: str, *, secure: bool, max_age: int) -> None:
    """Remember the signed-in account in an HTTP-only cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session(response: Response) -> None:
    """Forget the signed-in account."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(secret: str, token: str | None) -> str:
    """The form token bound to this session: a page of another site cannot know it."""
    message = (token or "anonymous").encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def csrf_ok(secret: str, token: str | None, sent: str | None) -> bool:
    """Whether the form token sent matches the session's."""
    return bool(sent) and hmac.compare_digest(csrf_token(secret, token), sent or "")
