"""Signing in, signing up (enterprises and experts), signing out, the language switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from greenplat.api.deps import client_address
from greenplat.core.accounts import service as accounts
from greenplat.core.accounts import throttle
from greenplat.core.accounts.models import Credentials, ExpertSignup, Signup, UserRead
from greenplat.core.accounts.throttle import Limits
from greenplat.core.audit import service as audit
from greenplat.core.errors import Conflict, InvalidInput, Throttled, Unauthorized
from greenplat.core.experts import applications
from greenplat.core.regions import service as regions

from ..deps import Viewer, WebRoute, form_of, redirect, viewer
from ..errors import inline
from ..forms import only, parse
from ..i18n import LANG_COOKIE, LANGUAGES
from ..render import render
from ..session import clear_session, set_session

R = TypeVar("R")

router = APIRouter(route_class=WebRoute)


def _safe_next(target: str | None) -> str:
    # Only paths of this site: an open redirect would let a link send users elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", include_in_schema=False)
def login_page(v: Viewer = Depends(viewer), next: str | None = None) -> Response:
    return render(v, "login.html", next=_safe_next(next), errors={}, values={})


def _sign_in(v: Viewer, creds: Credentials) -> tuple[str | None, dict[str, str], int | None]:
    """A token, or the form's errors and the seconds to wait when throttled."""
    limits = Limits.of(v.platform.settings)
    address = client_address(v.request)
    try:
        # The throttle records a failure on the request's connection, outside the savepoint
        # that the failed sign-in rolls back; the page then commits it.
        with (
            throttle.signing_in(v.conn, limits=limits, account=creds.username, address=address),
            v.transaction() as conn,
        ):
            token = accounts.authenticate(
                conn=conn,
                username=creds.username,
                password=creds.password,
                user_agent=v.request.headers.get("user-agent"),
            )
    except Unauthorized:
        audit.log_failed_login(v.conn, creds.username)
        return None, {"form": v.t("auth.bad_login")}, None
    except Throttled as error:
        return None, {"form": v.t("auth.throttled", seconds=error.retry_after)}, error.retry_after
    return token, {}, None


def _signed_in(v: Viewer, target: str, token: str) -> Response:
    response = redirect(target)
    settings = v.platform.settings
    set_session(response, token, secure=v.secure, max_age=settings.token_ttl_hours * 3600)
    return response


@router.post("/login", include_in_schema=False)
async def login(v: Viewer = Depends(viewer)) -> Response:
    data = await form_of(v)
    target = _safe_next(str(data.get("next") or "/"))
    creds, errors = parse(Credentials, only(data, ("username", "password")), v.t)
    token, wait = None, None
    if creds is not None:
        token, errors, wait = _sign_in(v, creds)
    if token is None:
        values = {"username": data.get("username", "")}
        status = 429 if wait else 422
        page = render(v, "login.html", status=status, next=target, errors=errors, values=values)
        if wait:
            page.headers["Retry-After"] = str(wait)
        return page
    return _signed_in(v, target, token)


def _regions(v: Viewer) -> list:
    with v.transaction() as conn:
        return regions.list_regions(conn=conn)


@router.get("/signup", include_in_schema=False)
def signup_page(v: Viewer = Depends(viewer)) -> Response:
    return render(v, "signup.html", errors={}, values={}, regions=_regions(v))


def _register(
    v: Viewer, form: Signup | ExpertSignup, create: Callable[[], R]
) -> tuple[tuple[R, str] | None, dict[str, str], int | None]:
    """Create an account under the sign-up throttle and sign it in: what `create` returned and
    the token, or the form's errors and the seconds to wait when throttled."""
    limits = Limits.of(v.platform.settings)
    try:
        # The attempt counts on the request's connection; a refused sign-up's own writes roll
        # back to the throttle's savepoint.
        with throttle.signing_up(v.conn, limits=limits, address=client_address(v.request)):
            created = create()
        with v.transaction() as conn:
            token = accounts.authenticate(
                conn=conn,
                username=form.username,
                password=form.password,
                user_agent=v.request.headers.get("user-agent"),
            )
    except (Conflict, InvalidInput) as error:
        return None, inline(error, v.t), None
    except Throttled as error:
        wait = error.retry_after
        return None, {"form": v.t("auth.signup_throttled", seconds=wait)}, wait
    return (created, token), {}, None


@router.post("/signup", include_in_schema=False)
async def signup(v: Viewer = Depends(viewer)) -> Response:
    data = await form_of(v)
    fields = ("username", "password", "organization", "region", "display_name")
    form, errors = parse(Signup, only(data, fields), v.t)
    if form is not None and data.get("password") != data.get("password2"):
        errors = {"password2": v.t("auth.password_mismatch")}
    done: tuple[UserRead, str] | None = None
    wait = None
    if form is not None and not errors:
        enterprise = form
        done, errors, wait = _register(
            v, form, lambda: accounts.signup_enterprise(conn=v.conn, **enterprise.model_dump())
        )
    if done is None:
        return _signup_refused(v, "signup.html", data, errors, wait)
    account, token = done
    welcome = "flash.welcome_pending" if account.organization_pending else "flash.welcome"
    return _signed_in(v, f"/enterprise/problems?ok={welcome}", token)


_EXPERT_FIELDS = (
    "username",
    "password",
    "email",
    "name",
    "region",
    "organization",
    "title",
    "disciplines",
    "keywords",
    "bio",
)


@router.get("/signup/expert", include_in_schema=False)
def signup_expert_page(v: Viewer = Depends(viewer)) -> Response:
    return render(v, "signup_expert.html", errors={}, values={}, regions=_regions(v))


@router.post("/signup/expert", include_in_schema=False)
async def signup_expert(v: Viewer = Depends(viewer)) -> Response:
    """An expert registers: signed in at once, its profile public once its sub-center approves."""
    data = await form_of(v)
    # The account's e-mails come in the language it signed up in.
    fields = {**only(data, _EXPERT_FIELDS), "language": v.lang}
    form, errors = parse(ExpertSignup, fields, v.t)
    if form is not None and data.get("password") != data.get("password2"):
        errors = {"password2": v.t("auth.password_mismatch")}
    done: tuple[object, str] | None = None
    wait = None
    if form is not None and not errors:
        expert = form
        done, errors, wait = _register(
            v, form, lambda: applications.signup(conn=v.conn, data=expert)
        )
    if done is None:
        return _signup_refused(v, "signup_expert.html", data, errors, wait)
    return _signed_in(v, "/account?ok=flash.signup_expert_pending", done[1])


def _signup_refused(
    v: Viewer, template: str, data: dict[str, Any], errors: dict[str, str], wait: int | None
) -> Response:
    """The sign-up form again with its errors and what was typed (never the passwords)."""
    values = {k: v_ for k, v_ in data.items() if not k.startswith("password")}
    page = render(
        v, template, status=429 if wait else 422, errors=errors, values=values, regions=_regions(v)
    )
    if wait:
        page.headers["Retry-After"] = str(wait)
    return page


@router.post("/logout", include_in_schema=False)
async def logout(v: Viewer = Depends(viewer)) -> Response:
    if v.token:
        await form_of(v)
        with v.transaction() as conn:
            accounts.revoke_token(conn=conn, token=v.token)
    response = redirect("/login")
    clear_session(response)
    return response


@router.post("/lang", include_in_schema=False)
async def switch_language(request: Request) -> Response:
    """Remember the chosen language; changing it needs no sign-in and changes no data."""
    data = await request.form()
    lang = str(data.get("lang") or "")
    response = redirect(_safe_next(str(data.get("next") or "/")))
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
