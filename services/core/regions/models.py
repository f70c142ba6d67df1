"""Region (地区) and sub-center (分中心) schemas, and organizations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from greenplat.core.fields import ShortText

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^\S+$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OrganizationKind = Literal["enterprise", "university", "institute", "other"]


class RegionCreate(BaseModel):
    """A region with its sub-center."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    subcenter_name: Name


class RegionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    subcenter_name: Name | None = None


class RegionRead(BaseModel):
    id: int
    code: str
    name: str
    subcenter_name: str
    created_at: datetime


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: OrganizationKind = "other"
    region: ShortText = None


class OrganizationRead(BaseModel):
    id: int
    name: str
    kind: OrganizationKind
    region: str | None
    created_at: datetime
