"""What every portal page needs: the platform, the viewer, the language and the form token."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from greenplat.api.deps import Conn
from greenplat.api.errors import as_domain_error, field_path
from greenplat.core.accounts import service as accounts
from greenplat.core.db import Connection
from greenplat.core.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthorized
from greenplat.core.notifications import service as notifications
from greenplat.core.permissions import Principal, Scope, scope_of
from greenplat.platform import Platform

from .errors import Unexpected, from_validation
from .i18n import LANG_COOKIE, Translator, pick_language
from .session import (
    csrf_ok,
    csrf_token,
    presession,
    secure_request,
    session_token,
    set_presession,
)

log = logging.getLogger(__name__)


class SignInRequired(Exception):
    """The page needs a signed-in viewer; the portal answers with the sign-in page."""


@dataclass
class Viewer:
    """The request as a page sees it."""

    request: Request
    platform: Platform
    conn: Connection
    principal: Principal | None
    token: str | None
    lang: str
    presession: str = ""
    presession_new: bool = False
    unread: int = 0

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The request's connection in a savepoint: the block's writes undo if it raises."""
        with self.conn.transaction():
            yield self.conn

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    @property
    def csrf(self) -> str:
        return csrf_token(self.platform.settings.secret_key, self.token, self.presession)

    @property
    def secure(self) -> bool:
        """Whether this request's cookies must be Secure."""
        return secure_request(self.request, production=self.platform.settings.env == "production")

    def keep_presession(self, response: Response) -> None:
        """Set the pre-session cookie on a page whose forms are bound to it."""
        if self.presession_new:
            set_presession(response, self.presession, secure=self.secure)

    @property
    def me(self) -> Principal:
        if self.principal is None:
            raise SignInRequired()
        return self.principal

    def may(self, resource: str, action: str) -> bool:
        """Whether the viewer's role has any scope for (resource, action)."""
        return self.principal is not None and scope_of(self.principal, resource, action) != Scope(0)

    def require(self, resource: str, action: str) -> Principal:
        """The signed-in principal, or Forbidden when its role may never do this."""
        principal = self.me
        if not self.may(resource, action):
            raise Forbidden(
                f"你的角色无权访问此页面 / role {principal.role} may not {action}",
                key="error.role_may_not_page",
                params={"role": principal.role},
            )
        return principal


def platform_of(request: Request) -> Platform:
    """The platform the app was created with."""
    return request.app.state.platform


def _principal(conn: Connection, token: str | None) -> Principal | None:
    if not token:
        return None
    try:
        return accounts.principal_for_token(conn=conn, token=token)
    except Unauthorized:
        return None


def viewer(request: Request, conn: Conn) -> Viewer:
    """The viewer of this request, signed in or not, with the request's one connection."""
    platform = platform_of(request)
    token = session_token(request)
    principal = _principal(conn, token)
    unread = notifications.unread_count(conn=conn, principal=principal) if principal else 0
    lang = pick_language(request.cookies.get(LANG_COOKIE))
    pre, new = presession(request)
    v = Viewer(
        request, platform, conn, principal, token if principal else None, lang, pre, new, unread
    )
    # The error page, rendered after the route failed, shows this viewer's header and menu.
    request.state.viewer = v
    return v


def signed_in(v: Viewer = Depends(viewer)) -> Viewer:
    """The viewer, who must be signed in."""
    v.me  # noqa: B018 - raises SignInRequired for anonymous viewers
    return v


async def form_of(v: Viewer) -> dict[str, Any]:
    """The posted form as a dict (lists kept for repeated names), after the CSRF check."""
    form = await v.request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    if not csrf_ok(v.csrf, data.pop("csrf", None)):
        raise InvalidInput("表单已过期，请刷新页面后重试 / the form expired", field="csrf")
    return data


def _error_page(request: Request, error: DomainError) -> Response:
    from .render import render_error

    return render_error(request, error)


def _invalid_value(error: RequestValidationError) -> DomainError:
    first = error.errors()[0]
    message = as_domain_error(error).message
    return from_validation(field_path(tuple(first["loc"])), first["type"], message)


class WebRoute(APIRoute):
    """Routes of the portal: a domain error becomes an HTML page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            except DomainError as error:
                return _error_page(request, error)
            except RequestValidationError as error:
                # Bad input in the path or query: a page too, never JSON.
                return _error_page(request, _invalid_value(error))
            except psycopg.DataError as error:
                return _error_page(request, as_domain_error(error))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return _error_page(request, Unexpected())

        return handle


def wants_page(request: Request) -> bool:
    """Whether a request for an unknown address comes from a browser on the portal."""
    path = request.url.path
    portal = not path.startswith(("/v1/", "/static/", "/docs", "/openapi"))
    return portal and "text/html" in request.headers.get("accept", "")


async def missing_page(request: Request) -> Response:
    """The 404 page of an address no route serves, in the viewer's header: the request's one
    connection reads the session (no route opened one)."""
    from .render import render_error

    missing = NotFound("地址不存在 / not found", key="error.page_not_found")
    platform = platform_of(request)

    def page() -> Response:
        with platform.db.session() as conn:
            viewer(request, conn)
            return render_error(request, missing)

    return await run_in_threadpool(page)


def redirect(url: str) -> RedirectResponse:
    """See-other redirect after a form post."""
    return RedirectResponse(url, status_code=303)


__all__ = ["HTMLResponse", "Viewer", "WebRoute", "form_of", "redirect", "signed_in", "viewer"]
