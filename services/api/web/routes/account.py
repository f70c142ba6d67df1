"""The account page: who you are, your password, your sessions (and where the notification
settings are)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import client_address
from greenplat.core.accounts import service as accounts
from greenplat.core.accounts import sessions, throttle
from greenplat.core.accounts.models import PasswordChange
from greenplat.core.accounts.throttle import Limits
from greenplat.core.contacts import service as contacts
from greenplat.core.errors import InvalidInput, Throttled
from greenplat.core.experts import applications

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..forms import only, parse
from ..render import render

router = APIRouter(route_class=WebRoute)


def _page(v: Viewer, errors: dict[str, str], status: int = 200) -> Response:
    me = v.me
    return render(
        v,
        "account/page.html",
        status=status,
        errors=errors,
        values={},
        user=accounts.get_user_or_raise(conn=v.conn, user_id=me.id or 0),
        contact=contacts.get_own(conn=v.conn, principal=me),
        application=applications.get_own(conn=v.conn, principal=me),
        sessions=sessions.list_sessions(conn=v.conn, principal=me, current_token=v.token),
    )


@router.get("/account", include_in_schema=False)
def account_page(v: Viewer = Depends(signed_in)) -> Response:
    """Name, e-mail, role in words, the expert sign-up's review, password, sessions."""
    return _page(v, {})


def _change(v: Viewer, form: PasswordChange) -> dict[str, str]:
    """The form's errors; none when the password changed."""
    limits = Limits.of(v.platform.settings)
    address = client_address(v.request)
    me = v.me
    try:
        # A wrong current password counts as a failed sign-in of the account (kept outside
        # the savepoint that undoes the attempt).
        with (
            throttle.signing_in(v.conn, limits=limits, account=me.username, address=address),
            v.transaction() as conn,
        ):
            sessions.change_password(
                conn=conn,
                principal=me,
                current_password=form.current_password,
                new_password=form.new_password,
                current_token=v.token,
            )
    except Throttled as error:
        return {"form": v.t("auth.throttled", seconds=error.retry_after)}
    except InvalidInput as error:
        return {error.field or "form": error.message}
    except sessions.WrongPassword:
        return {"current_password": v.t("account.wrong_password")}
    return {}


@router.post("/account/password", include_in_schema=False)
async def change_password(v: Viewer = Depends(signed_in)) -> Response:
    """Change the password (the current one first); the other sessions end."""
    data = await form_of(v)
    form, errors = parse(PasswordChange, only(data, ("current_password", "new_password")), v.t)
    if form is not None and data.get("new_password") != data.get("new_password2"):
        errors = {"new_password2": v.t("auth.password_mismatch")}
    if form is not None and not errors:
        errors = _change(v, form)
    if errors:
        return _page(v, errors, status=422)
    return redirect("/account?ok=flash.account_password_changed")


@router.post("/account/sessions/{session_id}/revoke", include_in_schema=False)
async def revoke_session(session_id: int, v: Viewer = Depends(signed_in)) -> Response:
    """End one session of the account (this one too: then the viewer is signed out)."""
    await form_of(v)
    sessions.revoke_session(conn=v.conn, principal=v.me, session_id=session_id)
    return redirect("/account?ok=flash.account_session_revoked")


@router.post("/account/sessions/revoke-others", include_in_schema=False)
async def revoke_others(v: Viewer = Depends(signed_in)) -> Response:
    """End every session of the account but this one."""
    await form_of(v)
    sessions.revoke_other_sessions(conn=v.conn, principal=v.me, current_token=v.token)
    return redirect("/account?ok=flash.account_sessions_revoked")
