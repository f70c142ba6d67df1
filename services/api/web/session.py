"""Cookie sessions: the cookie carries an account token; forms carry a token against CSRF."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "gp_session"
# Signed-out forms are bound to this random cookie (a signed double submit).
PRESESSION_COOKIE = "gp_presession"


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


def secure_request(request: Request, *, production: bool) -> bool:
    """Whether cookies must be Secure: the request came over TLS (the scheme of a trusted
    proxy's X-Forwarded-Proto, which uvicorn applies), or this is a production deployment."""
    return request.url.scheme == "https" or production


def presession(request: Request) -> tuple[str, bool]:
    """The browser's pre-session value, and whether it is new (the response must set it)."""
    value = request.cookies.get(PRESESSION_COOKIE)
    if value and len(value) <= 64:
        return value, False
    return secrets.token_urlsafe(24), True


def set_presession(response: Response, value: str, *, secure: bool) -> None:
    """Remember the pre-session value that binds signed-out forms (sign-in, sign-up)."""
    response.set_cookie(
        PRESESSION_COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/"
    )


def csrf_token(secret: str, token: str | None, pre: str) -> str:
    """The form token: bound to the session, or before sign-in to the pre-session cookie.

    Another site can neither read these cookies nor compute the signature without the secret.
    """
    message = f"session:{token}" if token else f"presession:{pre}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_ok(expected: str, sent: object) -> bool:
    """Whether the form token sent is the expected one."""
    return isinstance(sent, str) and hmac.compare_digest(expected, sent)
