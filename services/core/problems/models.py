"""Problem (企业技术难题/需求) schemas."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenplat.core.fields import (
    COMMENT_MAX,
    ExternalId,
    LongText,
    OptionalLongText,
    OptionalNumber,
    ShortText,
    TermList,
    Title,
)

ProblemStatus = Literal["draft", "submitted", "approved", "returned", "matched", "closed"]
PROBLEM_STATUSES: tuple[str, ...] = ProblemStatus.__args__  # type: ignore[attr-defined]

Budget = Annotated[
    Annotated[Decimal, Field(ge=0, le=10**9, decimal_places=2)] | None, OptionalNumber
]
Deadline = Annotated[date | None, OptionalNumber]


class ProblemBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: LongText
    keywords: TermList = []
    industry: ShortText = None
    region: ShortText = None
    organization: ShortText = None
    budget_wan: Budget = None
    deadline: Deadline = None
    confidential: bool = False
    # For a confidential problem: the summary shown to experts who may not read it in full.
    public_summary: OptionalLongText = None


class ProblemCreate(ProblemBase):
    """A new problem; external_id is generated when absent."""

    external_id: ExternalId | None = None
    extra: dict[str, Any] = {}


class ProblemUpdate(BaseModel):
    """Fields to change on a problem; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: LongText | None = None
    keywords: TermList | None = None
    industry: ShortText = None
    region: ShortText = None
    organization: ShortText = None
    budget_wan: Budget = None
    deadline: Deadline = None
    confidential: bool | None = None
    public_summary: OptionalLongText = None
    extra: dict[str, Any] | None = None


class ProblemRecord(ProblemBase):
    """A problem as the interchange contract writes it; unknown fields are kept in extra."""

    model_config = ConfigDict(extra="allow")

    external_id: ExternalId
    status: ProblemStatus = "approved"


class ProblemReview(BaseModel):
    """A sub-center's decision on a submitted problem."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "return"]
    comment: Annotated[str | None, Field(max_length=COMMENT_MAX)] = None


class ProblemRead(BaseModel):
    """A problem as a reader may see it; redacted=True means confidential text was withheld."""

    id: int
    external_id: str
    title: str
    description: str | None
    keywords: list[str]
    industry: str | None
    region: str | None
    organization: str | None
    organization_id: int | None = None
    budget_wan: Decimal | None
    deadline: date | None
    status: ProblemStatus
    confidential: bool
    public_summary: str | None = None
    review_comment: str | None = None
    owner_id: int | None = None
    extra: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    redacted: bool = False


class ProblemEvent(BaseModel):
    """One step of a problem's life: who moved it from which status to which, and why."""

    from_status: ProblemStatus | None
    to_status: ProblemStatus
    actor: str | None
    comment: str | None
    created_at: datetime


class ProblemPage(BaseModel):
    items: list[ProblemRead]
    total: int
    page: int
    page_size: int
