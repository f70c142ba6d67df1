"""Notifications (通知): the signed-in account's own, its e-mail choices and contact details."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from greenplat.api.deps import Conn, CurrentPrincipal
from greenplat.core.contacts import service as contacts
from greenplat.core.contacts.models import ContactRead, ContactUpdate
from greenplat.core.notifications import service
from greenplat.core.notifications.models import NotificationPage, Preferences, PreferencesUpdate

router = APIRouter(prefix="/v1", tags=["notifications 通知"])


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(
    principal: CurrentPrincipal,
    conn: Conn,
    unread: bool = False,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 30,
) -> NotificationPage:
    """The account's notifications, newest first, in the account's language."""
    language = contacts.get_own(conn=conn, principal=principal).language
    return service.list(
        conn=conn,
        principal=principal,
        language=language,
        unread_only=unread,
        page=page,
        page_size=page_size,
    )


@router.post("/notifications/{notification_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def read_notification(
    notification_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    principal: CurrentPrincipal,
    conn: Conn,
) -> Response:
    """Mark one of the account's notifications read."""
    service.mark_read(conn=conn, principal=principal, notification_id=notification_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/notifications/read-all", status_code=status.HTTP_204_NO_CONTENT)
def read_all(principal: CurrentPrincipal, conn: Conn) -> Response:
    """Mark every notification of the account read."""
    service.mark_read(conn=conn, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/notifications/preferences", response_model=Preferences)
def get_preferences(principal: CurrentPrincipal, conn: Conn) -> Preferences:
    """Per kind: e-mail off (in-app only), immediately, or in the daily digest."""
    return service.preferences(conn=conn, principal=principal)


@router.put("/notifications/preferences", response_model=Preferences)
def put_preferences(
    data: PreferencesUpdate, principal: CurrentPrincipal, conn: Conn
) -> Preferences:
    """Change the e-mail choice of some kinds."""
    return service.update_preferences(conn=conn, principal=principal, data=data)


@router.get("/account/contact", response_model=ContactRead)
def get_contact(principal: CurrentPrincipal, conn: Conn) -> ContactRead:
    """The account's own e-mail, phone and language (shown to others only after consent)."""
    return contacts.get_own(conn=conn, principal=principal)


@router.put("/account/contact", response_model=ContactRead)
def put_contact(data: ContactUpdate, principal: CurrentPrincipal, conn: Conn) -> ContactRead:
    """Change the account's own contact details."""
    return contacts.update_own(conn=conn, principal=principal, data=data)
