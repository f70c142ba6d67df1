"""Expert (专家) schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenplat.core.fields import (
    ExternalId,
    OptionalLongText,
    OptionalNumber,
    ShortText,
    TermList,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Capacity = Annotated[Annotated[int, Field(ge=0, le=1000)] | None, OptionalNumber]


class ExpertBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    organization: ShortText = None
    title: ShortText = None
    disciplines: TermList = []
    keywords: TermList = []
    bio: OptionalLongText = None
    region: ShortText = None
    capacity: Capacity = None


class ExpertCreate(ExpertBase):
    """A new expert; external_id is generated when absent."""

    external_id: ExternalId | None = None
    extra: dict[str, Any] = {}


class ExpertUpdate(BaseModel):
    """Fields to change on an expert; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    organization: ShortText = None
    title: ShortText = None
    disciplines: TermList | None = None
    keywords: TermList | None = None
    bio: OptionalLongText = None
    region: ShortText = None
    capacity: Capacity = None
    extra: dict[str, Any] | None = None


class ExpertRecord(ExpertBase):
    """An expert as the interchange contract writes it; unknown fields go to extra."""

    model_config = ConfigDict(extra="allow")

    external_id: ExternalId


class ExpertRead(BaseModel):
    id: int
    external_id: str
    name: str
    organization: str | None
    title: str | None
    disciplines: list[str]
    keywords: list[str]
    bio: str | None
    region: str | None
    capacity: int | None
    extra: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime


class ExpertPage(BaseModel):
    items: list[ExpertRead]
    total: int
    page: int
    page_size: int
