"""The signed-in account's password and sessions, password reset by e-mail, expert sign-up."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from greenplat.api.deps import (
    BearerToken,
    ClientAddress,
    Conn,
    CurrentPrincipal,
    SettingsDep,
    SignInLimits,
)
from greenplat.api.openapi import THROTTLED
from greenplat.core.accounts import reset, sessions, throttle
from greenplat.core.accounts.models import (
    ExpertSignup,
    PasswordChange,
    ResetConfirm,
    ResetRequest,
    SessionRead,
    UserRead,
)
from greenplat.core.experts import applications

router = APIRouter(prefix="/v1/auth", tags=["auth 账号"])


class ExpertDecision(BaseModel):
    """A sub-center's review of an expert's sign-up."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str | None = None


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED, responses=THROTTLED)
def request_reset(
    data: ResetRequest,
    conn: Conn,
    settings: SettingsDep,
    limits: SignInLimits,
    address: ClientAddress,
) -> dict[str, str]:
    """Mail a reset link to the accounts with this e-mail address.

    The answer is the same whether or not any account has it; requests are rate limited per
    e-mail address and per client address (429 with Retry-After)."""
    throttle.requesting_reset(conn, limits=limits, email=data.email, address=address)
    reset.request_reset(conn=conn, settings=settings, email=data.email)
    return {
        "detail": "如该邮箱属于某个账号，重设链接已发出 / if an account has it, a link was sent"
    }


@router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
def confirm_reset(data: ResetConfirm, conn: Conn) -> None:
    """Set a new password with a reset link's token; every session of the account ends."""
    reset.confirm_reset(conn=conn, token=data.token, password=data.password)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=THROTTLED)
def change_password(
    data: PasswordChange,
    principal: CurrentPrincipal,
    token: BearerToken,
    conn: Conn,
    limits: SignInLimits,
    address: ClientAddress,
) -> None:
    """Change the password (the current one first); the account's other sessions end.

    A wrong current password counts as a failed sign-in of the account."""
    with (
        throttle.signing_in(conn, limits=limits, account=principal.username, address=address),
        conn.transaction(),
    ):
        sessions.change_password(
            conn=conn,
            principal=principal,
            current_password=data.current_password,
            new_password=data.new_password,
            current_token=token,
        )


@router.get("/sessions", response_model=list[SessionRead])
def list_sessions(principal: CurrentPrincipal, token: BearerToken, conn: Conn) -> list[SessionRead]:
    """The account's sessions (tokens), current marking this request's."""
    return sessions.list_sessions(conn=conn, principal=principal, current_token=token)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_session(session_id: int, principal: CurrentPrincipal, conn: Conn) -> None:
    """End one of the account's sessions."""
    sessions.revoke_session(conn=conn, principal=principal, session_id=session_id)


@router.delete("/sessions", status_code=status.HTTP_204_NO_CONTENT)
def revoke_other_sessions(principal: CurrentPrincipal, token: BearerToken, conn: Conn) -> None:
    """End every session of the account but this request's."""
    sessions.revoke_other_sessions(conn=conn, principal=principal, current_token=token)


@router.post(
    "/signup/expert",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=THROTTLED,
)
def signup_expert(
    data: ExpertSignup, conn: Conn, limits: SignInLimits, address: ClientAddress
) -> UserRead:
    """An expert registers itself; its profile is public once its region's sub-center approves.

    Sign-ups from one address are rate limited (429 with Retry-After)."""
    with throttle.signing_up(conn, limits=limits, address=address):
        return applications.signup(conn=conn, data=data)


@router.get("/expert-signups")
def pending_expert_signups(principal: CurrentPrincipal, conn: Conn) -> list[dict]:
    """Experts' sign-ups waiting for the caller's review (its region's; all for staff)."""
    return [_public(row) for row in applications.list_pending(conn=conn, principal=principal)]


@router.post("/expert-signups/{application_id}", status_code=status.HTTP_204_NO_CONTENT)
def decide_expert_signup(
    application_id: int, data: ExpertDecision, principal: CurrentPrincipal, conn: Conn
) -> None:
    """Approve an expert's sign-up (its profile is created) or reject it with a reason."""
    applications.decide(
        conn=conn,
        principal=principal,
        application_id=application_id,
        decision=data.decision,
        reason=data.reason,
    )


def _public(row: dict) -> dict:
    keep = ("id", "username", "email", "created_at", *applications.PROFILE)
    return {k: row[k] for k in keep}
