"""Message schemas: one thread per (problem, expert)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from greenplat.core.contacts.models import ContactRead

BODY_LIMIT = 5000


class MessageCreate(BaseModel):
    """Plain text; its length is checked by the service (one message for API and portal)."""

    model_config = ConfigDict(extra="forbid")

    body: str


class MessageRead(BaseModel):
    id: int
    author: str
    author_role: str
    mine: bool
    body: str
    created_at: datetime


class Thread(BaseModel):
    problem_id: int
    problem_external_id: str
    problem_title: str
    expert_id: int
    expert_external_id: str
    expert_name: str
    items: list[MessageRead]
    # The other side's contact details: empty until the expert said 有意向.
    contacts: list[ContactRead] = []
