"""Request dependencies: the platform, one unit of work per request, the signed-in principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from greenplat.core.accounts import service as accounts
from greenplat.core.db import Connection
from greenplat.core.errors import Unauthorized
from greenplat.core.permissions import Principal
from greenplat.core.settings import Settings
from greenplat.platform import Platform

# auto_error=False: a missing token becomes our own 401 in the one error shape.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_platform(request: Request) -> Platform:
    """The platform the app was created with (or opened at start-up)."""
    return request.app.state.platform


def get_settings(request: Request) -> Settings:
    return request.app.state.platform.settings


def get_conn(platform: Annotated[Platform, Depends(get_platform)]) -> Iterator[Connection]:
    """One unit of work per request: committed before the response is sent, else rolled back."""
    with platform.db.session() as conn:
        yield conn


PlatformDep = Annotated[Platform, Depends(get_platform)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response leaves, so a 2xx means stored.
Conn = Annotated[Connection, Depends(get_conn, scope="function")]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def get_principal(conn: Conn, token: BearerToken) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one."""
    if not token:
        raise Unauthorized("请先登录 / sign in first (Authorization: Bearer <token>)")
    return accounts.principal_for_token(conn=conn, token=token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
