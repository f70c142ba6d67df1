"""Signing in, signing up (enterprises), signing out, the language switch and the home page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import Credentials, Signup
from greenplat.core.audit import service as audit
from greenplat.core.errors import Conflict, InvalidInput, Unauthorized
from greenplat.core.regions import service as regions

from ..deps import Viewer, WebRoute, form_of, redirect, viewer
from ..forms import only, parse
from ..i18n import LANG_COOKIE, LANGUAGES
from ..render import MENUS, render
from ..session import clear_session, set_session

router = APIRouter(route_class=WebRoute)


def _safe_next(target: str | None) -> str:
    # Only paths of this site: an open redirect would let a link send users elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/", include_in_schema=False)
def home(v: Viewer = Depends(viewer)) -> Response:
    """The viewer's first page: its role's main work, or the sign-in page."""
    if v.principal is None:
        return redirect("/login")
    return redirect(MENUS[v.principal.role][0][1])


@router.get("/login", include_in_schema=False)
def login_page(v: Viewer = Depends(viewer), next: str | None = None) -> Response:
    return render(v, "login.html", next=_safe_next(next), errors={}, values={})


@router.post("/login", include_in_schema=False)
async def login(request: Request, v: Viewer = Depends(viewer)) -> Response:
    data = dict(await request.form())
    target = _safe_next(str(data.get("next") or "/"))
    creds, errors = parse(Credentials, only(data, ("username", "password")), v.t)
    if creds is not None:
        try:
            with v.transaction() as conn:
                token = accounts.authenticate(
                    conn=conn, username=creds.username, password=creds.password
                )
        except Unauthorized:
            audit.log_failed_login(v.platform.db, creds.username)
            errors = {"form": v.t("auth.bad_login")}
    if errors:
        values = {"username": data.get("username", "")}
        return render(v, "login.html", status=422, next=target, errors=errors, values=values)
    response = redirect(target)
    settings = v.platform.settings
    set_session(
        response,
        token,
        secure=settings.env == "production",
        max_age=settings.token_ttl_hours * 3600,
    )
    return response


def _regions(v: Viewer) -> list:
    with v.transaction() as conn:
        return regions.list_regions(conn=conn)


@router.get("/signup", include_in_schema=False)
def signup_page(v: Viewer = Depends(viewer)) -> Response:
    return render(v, "signup.html", errors={}, values={}, regions=_regions(v))


@router.post("/signup", include_in_schema=False)
async def signup(request: Request, v: Viewer = Depends(viewer)) -> Response:
    data = dict(await request.form())
    fields = ("username", "password", "organization", "region", "display_name")
    form, errors = parse(Signup, only(data, fields), v.t)
    if form is not None and data.get("password") != data.get("password2"):
        errors = {"password2": v.t("auth.password_mismatch")}
    if form is not None and not errors:
        try:
            with v.transaction() as conn:
                account = accounts.signup_enterprise(conn=conn, **form.model_dump())
                token = accounts.authenticate(
                    conn=conn, username=form.username, password=form.password
                )
        except (Conflict, InvalidInput) as error:
            errors = {error.field or "form": error.message}
    if errors:
        values = {k: v_ for k, v_ in data.items() if not k.startswith("password")}
        return render(
            v, "signup.html", status=422, errors=errors, values=values, regions=_regions(v)
        )
    welcome = "flash.welcome_pending" if account.organization_pending else "flash.welcome"
    response = redirect(f"/enterprise/problems?ok={welcome}")
    settings = v.platform.settings
    set_session(
        response,
        token,
        secure=settings.env == "production",
        max_age=settings.token_ttl_hours * 3600,
    )
    return response


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
