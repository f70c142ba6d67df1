"""Audit log schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str | None
    action: str
    library: str | None
    external_id: str | None
    region: str | None
    rows: int | None
    detail: dict[str, Any]
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    page: int
    page_size: int
