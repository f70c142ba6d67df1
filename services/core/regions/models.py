"""Region (地区) and sub-center (分中心) schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^\S+$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


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
