"""The notification centre, each account's contact details and e-mail choices, the mail log."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core.contacts import service as contacts
from greenplat.core.contacts.models import ContactUpdate
from greenplat.core.errors import InvalidInput
from greenplat.core.notifications import mail
from greenplat.core.notifications import service as notifications
from greenplat.core.notifications.models import KINDS, MAIL_CHOICES, PreferencesUpdate

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..forms import parse
from ..render import render

router = APIRouter(route_class=WebRoute)


@router.get("/notifications", include_in_schema=False)
def centre(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The viewer's notifications, newest first; unread ones stand out."""
    page = notifications.list(conn=conn, principal=v.me, language=v.lang, page_size=100)
    return render(v, "notifications/centre.html", page=page)


@router.post("/notifications/{notification_id}/open", include_in_schema=False)
async def open_one(notification_id: int, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """Mark a notification read and go where the viewer acts on it."""
    await form_of(v)
    link = notifications.mark_read(conn=conn, principal=v.me, notification_id=notification_id)
    return redirect(link or "/notifications")


@router.post("/notifications/read-all", include_in_schema=False)
async def read_all(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    await form_of(v)
    notifications.mark_read(conn=conn, principal=v.me)
    return redirect("/notifications")


def _settings_page(v: Viewer, conn, values: dict, errors: dict, status: int = 200) -> Response:
    prefs = notifications.preferences(conn=conn, principal=v.me).email
    return render(
        v,
        "notifications/settings.html",
        status=status,
        values=values,
        errors=errors,
        prefs=prefs,
        kinds=KINDS,
        choices=MAIL_CHOICES,
    )


@router.get("/account/settings", include_in_schema=False)
def settings_page(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """Contact details (shown to the other side only after consent) and e-mail choices."""
    own = contacts.get_own(conn=conn, principal=v.me).model_dump()
    return _settings_page(v, conn, {k: own[k] or "" for k in ("email", "phone", "language")}, {})


@router.post("/account/settings", include_in_schema=False)
async def save_settings(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    data = await form_of(v)
    values = {k: str(data.get(k) or "") for k in ("email", "phone", "language")}
    contact, errors = parse(ContactUpdate, values, v.t)
    prefs, pref_errors = parse(
        PreferencesUpdate,
        {"email": {k: data[f"mail_{k}"] for k in KINDS if f"mail_{k}" in data}},
        v.t,
    )
    if contact is None or prefs is None:
        return _settings_page(v, conn, values, errors | pref_errors, status=422)
    contacts.update_own(conn=conn, principal=v.me, data=contact)
    notifications.update_preferences(conn=conn, principal=v.me, data=prefs)
    return redirect("/account/settings?ok=flash.settings_saved")


@router.get("/admin/mail", include_in_schema=False)
def mail_log(conn: Conn, v: Viewer = Depends(signed_in), status: str | None = None) -> Response:
    """The e-mail outbox: what waits, what failed and why, what went."""
    rows = mail.list_outbox(conn=conn, principal=v.me, status=status or None)
    return render(v, "admin/mail.html", rows=rows, status_filter=status or "")


@router.post("/admin/mail/{outbox_id}/retry", include_in_schema=False)
async def retry_mail(outbox_id: int, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    await form_of(v)
    if not mail.retry(conn=conn, principal=v.me, outbox_id=outbox_id):
        raise InvalidInput("只能重试失败的邮件 / only failed e-mails can be retried", field="id")
    return redirect("/admin/mail?ok=flash.mail_retried")
