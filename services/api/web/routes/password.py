"""Forgotten passwords: ask for a link by e-mail, then choose a new password through it."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import client_address
from greenplat.core.accounts import reset, throttle
from greenplat.core.accounts.models import ResetConfirm, ResetRequest
from greenplat.core.accounts.throttle import Limits
from greenplat.core.errors import InvalidInput, Throttled

from ..deps import Viewer, WebRoute, form_of, redirect, viewer
from ..forms import only, parse
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/password/forgot", include_in_schema=False)
def forgot_page(v: Viewer = Depends(viewer)) -> Response:
    return render(v, "password/forgot.html", errors={}, values={}, sent=False)


@router.post("/password/forgot", include_in_schema=False)
async def forgot(v: Viewer = Depends(viewer)) -> Response:
    """Mail a reset link; the page says the same whether or not the address has an account."""
    data = await form_of(v)
    form, errors = parse(ResetRequest, only(data, ("email",)), v.t)
    values = {"email": str(data.get("email") or "")}
    if form is None:
        return render(
            v, "password/forgot.html", status=422, errors=errors, values=values, sent=False
        )
    settings = v.platform.settings
    try:
        throttle.requesting_reset(
            v.conn, limits=Limits.of(settings), email=form.email, address=client_address(v.request)
        )
    except Throttled as error:
        page = render(
            v,
            "password/forgot.html",
            status=429,
            values=values,
            sent=False,
            errors={"form": v.t("reset.throttled", seconds=error.retry_after)},
        )
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    reset.request_reset(conn=v.conn, settings=settings, email=form.email)
    return render(v, "password/forgot.html", errors={}, values=values, sent=True)


@router.get("/password/reset/{token}", include_in_schema=False)
def reset_page(token: str, v: Viewer = Depends(viewer)) -> Response:
    """The new-password form, or why the link no longer works."""
    works = len(token) <= 128 and reset.link_works(conn=v.conn, token=token)
    return render(
        v,
        "password/reset.html",
        status=200 if works else 410,
        token=token,
        works=works,
        errors={},
        values={},
    )


@router.post("/password/reset/{token}", include_in_schema=False)
async def reset_password(token: str, v: Viewer = Depends(viewer)) -> Response:
    """Set the new password; every session of the account ends, and the link is used up."""
    data = await form_of(v)
    form, errors = parse(ResetConfirm, {"token": token, **only(data, ("password",))}, v.t)
    if form is not None and data.get("password") != data.get("password2"):
        errors = {"password2": v.t("auth.password_mismatch")}
    if form is not None and not errors:
        try:
            with v.transaction() as conn:
                reset.confirm_reset(conn=conn, token=form.token, password=form.password)
        except InvalidInput as error:
            errors = {error.field or "form": error.message}
    if errors:
        works = reset.link_works(conn=v.conn, token=token)
        return render(
            v,
            "password/reset.html",
            status=422 if works else 410,
            token=token,
            works=works,
            errors=errors,
            values={},
        )
    return redirect("/login?ok=flash.reset_done")
