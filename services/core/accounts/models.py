"""Account schemas: users with roles, sign-up, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenplat.core.accounts import passwords
from greenplat.core.fields import OptionalLongText, ShortText, TermList

Role = Literal["enterprise", "expert", "subcenter_admin", "platform_admin"]
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$"
    ),
]
Password = Annotated[
    str,
    StringConstraints(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH),
]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
ExpertId = Annotated[int | None, Field(ge=1, le=2**63 - 1)]


class UserCreate(BaseModel):
    """A new account, created by a platform admin."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role
    display_name: DisplayName = ""
    region: ShortText = None
    organization: ShortText = None
    expert_id: ExpertId = None


class UserUpdate(BaseModel):
    """Fields of an account to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    password: Password | None = None
    role: Role | None = None
    display_name: DisplayName | None = None
    region: ShortText = None
    organization: ShortText = None
    expert_id: ExpertId = None
    active: bool | None = None


class Signup(BaseModel):
    """An enterprise registering itself."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    organization: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    region: ShortText = None
    display_name: DisplayName = ""


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    region: str | None
    organization_id: int | None
    organization: str | None = Field(description="Name of the organization the account belongs to.")
    organization_pending: str | None = Field(
        default=None, description="Organization the account asked to join, awaiting approval."
    )
    expert_id: int | None
    expert_external_id: str | None = None
    active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    page: int
    page_size: int


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


class PasswordChange(BaseModel):
    """A new password for the signed-in account, with its current one."""

    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class ResetRequest(BaseModel):
    """Ask for a password reset link by e-mail."""

    model_config = ConfigDict(extra="forbid")

    email: Email


class ResetConfirm(BaseModel):
    """The token of a reset link and the new password."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=20, max_length=128)]
    password: Password


class SessionRead(BaseModel):
    """A signed-in session of the account (never its token)."""

    id: int
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    user_agent: str | None
    current: bool = Field(description="Whether this is the session making the request.")


class ExpertSignup(BaseModel):
    """An expert registering itself; its profile waits for the sub-center of its region."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    email: Email
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    organization: ShortText = None
    title: ShortText = None
    disciplines: TermList = []
    keywords: TermList = []
    bio: OptionalLongText = None
    language: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="Language of the e-mails the account receives."
    )
