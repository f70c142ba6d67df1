"""Notification schemas: kinds, what a reader sees, each user's e-mail choice per kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal[
    "recommendation", "invitation", "answer", "message", "review", "queue", "deal", "account"
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
MailChoice = Literal["off", "immediate", "digest"]
MAIL_CHOICES: tuple[str, ...] = MailChoice.__args__  # type: ignore[attr-defined]
# Without a choice of their own, users get these (suggestions wait for the daily digest).
DEFAULT_MAIL: dict[str, str] = {kind: "immediate" for kind in KINDS} | {
    "recommendation": "digest",
    "queue": "digest",
}


class NotificationRead(BaseModel):
    id: int
    kind: Kind
    problem_id: int | None
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None
    params: dict[str, Any] = {}


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    unread: int
    total: int
    page: int
    page_size: int


class PreferencesUpdate(BaseModel):
    """E-mail choice per kind (kinds left out keep their choice)."""

    model_config = ConfigDict(extra="forbid")

    email: dict[Kind, MailChoice]


class Preferences(BaseModel):
    email: dict[str, str]
