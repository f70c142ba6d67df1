"""How to reach an account: e-mail, phone, and the language to write in."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Language = Literal["zh-CN", "en"]


class ContactUpdate(BaseModel):
    """The account's own contact details (blank clears a field)."""

    model_config = ConfigDict(extra="forbid")

    email: Email | Literal[""] | None = None
    phone: Phone | None = None
    language: Language = "zh-CN"


class ContactRead(BaseModel):
    name: str
    organization: str | None = None
    email: str | None = None
    phone: str | None = None
    language: Language = Field("zh-CN")
