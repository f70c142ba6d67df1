"""Reference list schemas: the lists, a resolution, aliases and merges."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Kind = Literal["region", "industry", "discipline"]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EntryRead(BaseModel):
    code: str
    name: str
    aliases: list[str]


class ReferenceListRead(BaseModel):
    kind: Kind
    source: str
    entries: list[EntryRead]
    platform_values: list[str] = Field(description="The platform's own values (its regions).")
    added_aliases: dict[str, str] = Field(description="Aliases admins added: alias -> value.")


class ResolutionRead(BaseModel):
    kind: Kind
    given: str
    value: str | None
    status: Literal["canonical", "mapped", "unknown"]
    closest: list[str]


class AliasCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: Value
    canonical: Value


class MergeRequest(BaseModel):
    """Merge source into target; expected is the record count the preview showed."""

    model_config = ConfigDict(extra="forbid")

    source: Value
    target: Value
    expected: int | None = Field(None, ge=0, description="Omit to preview; send to confirm.")


class MergeRead(BaseModel):
    kind: Kind
    source: str
    target: str
    moves: dict[str, int]
    samples: dict[str, list[str]]
    total: int
    done: bool
