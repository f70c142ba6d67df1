"""Import job schemas: a job's status and progress, and its paged report of rejected rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

JobStatus = Literal["queued", "running", "done", "failed"]
JobMode = Literal["library", "own_achievements"]
FINAL_STATUSES = ("done", "failed")


class ImportJobRead(BaseModel):
    """An import job: what it reads, how far it got, and what it stored."""

    id: int
    library: str
    mode: JobMode
    file_name: str
    status: JobStatus
    rows_read: int
    created: int
    updated: int
    rejected: int
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


class RejectedRow(BaseModel):
    """One row an import refused: its line (row number), why, the field to blame (if one
    is) and the row's values as the file held them."""

    line: int
    reason: str
    field: str | None = None
    original: dict[str, Any] | None = None


class RejectedRowPage(BaseModel):
    items: list[RejectedRow]
    total: int
    page: int
    page_size: int
