"""Near-duplicate schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Library = Literal["problems", "achievements"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DuplicateCheck(BaseModel):
    """A text about to be posted; organization is the poster's own for enterprises."""

    model_config = ConfigDict(extra="forbid")

    library: Library = "problems"
    title: Text
    text: Text
    organization: ExternalId | None = None


class SuspectRead(BaseModel):
    external_id: str
    title: str
    score: float
    exact: bool


class DuplicateCheckRead(BaseModel):
    suspects: list[SuspectRead]
    warning: str | None


class DuplicateDecision(BaseModel):
    """Merge record into other, or mark the pair distinct."""

    model_config = ConfigDict(extra="forbid")

    record: ExternalId
    other: ExternalId
    decision: Literal["merged", "distinct"]


class DuplicatePairRead(BaseModel):
    record: str
    title: str
    other: str
    other_title: str
    score: float
    status: str
    found_at: datetime
