"""Sign-in, sign-up, the current account, sign-out."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from greenplat.api.deps import (
    BearerToken,
    ClientAddress,
    Conn,
    CurrentPrincipal,
    SettingsDep,
    SignInLimits,
)
from greenplat.api.openapi import THROTTLED
from greenplat.core.accounts import service as accounts
from greenplat.core.accounts import throttle
from greenplat.core.accounts.models import Credentials, Signup, Token, UserRead
from greenplat.core.audit import service as audit
from greenplat.core.errors import Unauthorized

router = APIRouter(prefix="/v1/auth", tags=["auth 账号"])

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": Credentials.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": Credentials.model_json_schema()},
        },
    }
}


def _invalid(error: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()])


async def credentials(request: Request) -> Credentials:
    """Username and password from a JSON body, or from the OAuth2 form /docs sends."""
    if request.headers.get("content-type", "").startswith(_FORMS):
        form = await request.form()
        data: Any = {k: form[k] for k in ("username", "password") if k in form}
    else:
        try:
            data = json.loads(await request.body() or b"null")
        except ValueError as e:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body", 0), "msg": str(e), "input": None}]
            ) from e
    try:
        return Credentials.model_validate(data)
    except ValidationError as e:
        raise _invalid(e) from e


@router.post("/token", response_model=Token, openapi_extra=_TOKEN_BODY, responses=THROTTLED)
def token(
    creds: Annotated[Credentials, Depends(credentials)],
    conn: Conn,
    settings: SettingsDep,
    limits: SignInLimits,
    address: ClientAddress,
    request: Request,
) -> Token:
    """Sign in: a bearer token for a username and password (JSON or OAuth2 form).

    Failed sign-ins lock the account and the address for a while (429 with Retry-After).
    """
    with throttle.signing_in(conn, limits=limits, account=creds.username, address=address):
        try:
            value = accounts.authenticate(
                conn=conn,
                username=creds.username,
                password=creds.password,
                ttl_hours=settings.token_ttl_hours,
                user_agent=request.headers.get("user-agent"),
            )
        except Unauthorized:
            audit.log_failed_login(conn, creds.username)
            raise
    return Token(access_token=value, expires_in=settings.token_ttl_hours * 3600)


@router.post(
    "/signup",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=THROTTLED,
)
def signup(data: Signup, conn: Conn, limits: SignInLimits, address: ClientAddress) -> UserRead:
    """An enterprise registers itself (enterprise role, bound to its organization).

    Sign-ups from one address are rate limited (429 with Retry-After).
    """
    with throttle.signing_up(conn, limits=limits, address=address):
        return accounts.signup_enterprise(conn=conn, **data.model_dump())


@router.get("/me", response_model=UserRead)
def me(principal: CurrentPrincipal, conn: Conn) -> UserRead:
    """The signed-in account."""
    if principal.id is None:
        raise Unauthorized("请先登录 / sign in first")
    return accounts.get_user_or_raise(conn=conn, user_id=principal.id)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentPrincipal, token: BearerToken, conn: Conn) -> None:
    """Sign out: the token stops working."""
    accounts.revoke_token(conn=conn, token=token or "")
