"""Request dependencies: the platform, one unit of work per request, the signed-in principal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.throttle import Limits
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


def _connect_limiter(request: Request) -> anyio.CapacityLimiter:
    """Threads that wait for a pool connection, apart from the threads that run routes.

    Waiting in the route threads' pool would deadlock under load: with more requests than
    route threads, every route thread can sit waiting for a connection while the requests
    holding the connections wait for a route thread to run in (until the pool times out).
    """
    state, loop = request.app.state, asyncio.get_running_loop()
    if getattr(state, "connect_loop", None) is not loop:
        size = request.app.state.platform.settings.db_pool_max
        state.connect_limiter, state.connect_loop = anyio.CapacityLimiter(size), loop
    return state.connect_limiter


def _sign_in(request: Request, conn: Connection) -> None:
    """Look the request's bearer token up on the thread that took its connection, so the
    principal costs no thread hop of its own (get_principal reads the outcome); a bad token
    matters only to routes that ask for a principal."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        return
    try:
        request.state.signed_in = accounts.principal_for_token(conn=conn, token=token)
    except Unauthorized as refused:
        request.state.signed_in = refused


async def get_conn(request: Request) -> AsyncIterator[Connection]:
    """One unit of work per request: committed before the response is sent, else rolled back."""
    session = get_platform(request).db.session()
    limiter = _connect_limiter(request)

    def begin() -> Connection:
        conn = session.__enter__()
        try:
            _sign_in(request, conn)
        except BaseException as error:
            session.__exit__(type(error), error, error.__traceback__)
            raise
        return conn

    conn = await anyio.to_thread.run_sync(begin, limiter=limiter)
    # The commit runs on a route thread: the waiters' threads may all be busy waiting.
    try:
        yield conn
    except BaseException as error:
        if not await anyio.to_thread.run_sync(
            session.__exit__, type(error), error, error.__traceback__
        ):
            raise
    else:
        await anyio.to_thread.run_sync(session.__exit__, None, None, None)


PlatformDep = Annotated[Platform, Depends(get_platform)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response leaves, so a 2xx means stored.
Conn = Annotated[Connection, Depends(get_conn, scope="function")]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def get_principal(request: Request, conn: Conn, token: BearerToken) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one."""
    # Looked up when the connection was taken (get_conn, which `conn` makes run first).
    found = getattr(request.state, "signed_in", None)
    if not token or found is None:
        raise Unauthorized("请先登录 / sign in first (Authorization: Bearer <token>)")
    if isinstance(found, Unauthorized):
        raise found
    return found


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def client_address(request: Request) -> str:
    """The caller's address; uvicorn takes it from X-Forwarded-For of trusted proxies only."""
    return request.client.host if request.client else "unknown"


def get_limits(settings: SettingsDep) -> Limits:
    return Limits.of(settings)


ClientAddress = Annotated[str, Depends(client_address)]
SignInLimits = Annotated[Limits, Depends(get_limits)]
