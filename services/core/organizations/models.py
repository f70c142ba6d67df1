"""Organization (组织) schemas: the record, and requests to join one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from greenplat.core.fields import ShortText

OrganizationKind = Literal["enterprise", "university", "institute", "other"]
OrganizationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OrganizationName
    kind: OrganizationKind = "other"
    region: ShortText = None


class OrganizationRead(BaseModel):
    id: int
    name: str
    kind: OrganizationKind
    region: str | None
    verified: bool
    created_at: datetime


class MembershipRequestRead(BaseModel):
    """An account asking to join an organization."""

    id: int
    organization_id: int
    organization: str
    user_id: int
    username: str
    display_name: str
    status: Literal["pending", "approved", "rejected"]
    created_at: datetime


class MembershipDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
