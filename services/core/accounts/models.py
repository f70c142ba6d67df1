"""Account schemas: users with roles, sign-up, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenplat.core.fields import ShortText

Role = Literal["enterprise", "expert", "subcenter_admin", "platform_admin"]
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
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
