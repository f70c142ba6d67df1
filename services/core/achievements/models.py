"""Achievement (科技成果) schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenplat.core.fields import (
    ExternalId,
    IdList,
    LongText,
    OptionalNumber,
    ShortText,
    TermList,
    Title,
)

AchievementStatus = Literal["published", "withdrawn"]


def published_sql(alias: str | None = None) -> str:
    """The SQL condition of an achievement that is part of the library: what others read,
    search and matching count, exports carry (a withdrawn one is none of these). One rule,
    on the achievements table or its alias."""
    return f"{alias + '.' if alias else ''}status = 'published'"


AchievementKind = Literal["paper", "patent", "software", "technology", "standard", "other"]
ACHIEVEMENT_KINDS: tuple[str, ...] = AchievementKind.__args__  # type: ignore[attr-defined]

Year = Annotated[Annotated[int, Field(ge=1900, le=2200)] | None, OptionalNumber]


class AchievementBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    abstract: LongText
    keywords: TermList = []
    kind: AchievementKind = "other"
    discipline: ShortText = None
    year: Year = None
    organization: ShortText = None
    expert_ids: IdList = []


class AchievementCreate(AchievementBase):
    """A new achievement; external_id is generated when absent."""

    external_id: ExternalId | None = None
    extra: dict[str, Any] = {}


class AchievementUpdate(BaseModel):
    """Fields to change on an achievement; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    abstract: LongText | None = None
    keywords: TermList | None = None
    kind: AchievementKind | None = None
    discipline: ShortText = None
    year: Year = None
    organization: ShortText = None
    expert_ids: IdList | None = None
    extra: dict[str, Any] | None = None


class AchievementRecord(AchievementBase):
    """An achievement as the interchange contract writes it; unknown fields go to extra."""

    model_config = ConfigDict(extra="allow")

    external_id: ExternalId


class AchievementRead(BaseModel):
    id: int
    external_id: str
    title: str
    abstract: str
    keywords: list[str]
    kind: AchievementKind
    discipline: str | None
    year: int | None
    organization: str | None
    expert_ids: list[str]
    extra: dict[str, Any] = {}
    status: AchievementStatus = "published"
    withdrawn_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class AchievementPage(BaseModel):
    items: list[AchievementRead]
    total: int
    page: int
    page_size: int
