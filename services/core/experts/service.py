"""Experts (专家): profiles readable by everyone, edited by the expert and its sub-center."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

from greenplat.core import store
from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput, NotFound
from greenplat.core.experts.models import (
    ExpertCreate,
    ExpertPage,
    ExpertRead,
    ExpertRecord,
    ExpertUpdate,
)
from greenplat.core.outbox import record_change
from greenplat.core.permissions import Principal, require, require_any
from greenplat.core.reference import service as reference

# Field names of ExpertRead, looked up per row (model_fields is a descriptor, 13x a set).
_EXPERT_READ_FIELDS = frozenset(ExpertRead.model_fields)

FIELDS = (
    "name",
    "organization",
    "title",
    "disciplines",
    "keywords",
    "bio",
    "region",
    "capacity",
)
SORTABLE = ("created_at", "updated_at", "name", "capacity", "region", "id")


def _row(conn: Connection, expert_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    lock_sql = " FOR UPDATE" if lock else ""
    return conn.execute(f"SELECT * FROM experts WHERE id = %s{lock_sql}", (expert_id,)).fetchone()


def _row_or_raise(conn: Connection, expert_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = _row(conn, expert_id, lock=lock)
    if row is None:
        raise NotFound(f"专家 {expert_id} 不存在 / expert {expert_id} not found")
    return row


def to_read(row: dict[str, Any]) -> ExpertRead:
    """The expert as the API shows it."""
    return ExpertRead(**{k: v for k, v in row.items() if k in _EXPERT_READ_FIELDS})


def get(*, conn: Connection, principal: Principal, expert_id: int) -> ExpertRead | None:
    """The expert with this id, or None."""
    require_any(principal, "expert", "read")
    row = _row(conn, expert_id)
    return to_read(row) if row else None


def get_or_raise(*, conn: Connection, principal: Principal, expert_id: int) -> ExpertRead:
    """Like get, raising NotFound."""
    require_any(principal, "expert", "read")
    return to_read(_row_or_raise(conn, expert_id))


def get_by_external_id(
    *, conn: Connection, principal: Principal, external_id: str
) -> ExpertRead | None:
    """The expert with this external_id, or None."""
    require_any(principal, "expert", "read")
    row = conn.execute("SELECT * FROM experts WHERE external_id = %s", (external_id,)).fetchone()
    return to_read(row) if row else None


def get_by_external_id_or_raise(
    *, conn: Connection, principal: Principal, external_id: str
) -> ExpertRead:
    """Like get_by_external_id, raising NotFound."""
    found = get_by_external_id(conn=conn, principal=principal, external_id=external_id)
    if found is None:
        raise NotFound(f"专家 {external_id} 不存在 / expert {external_id} not found")
    return found


def list(
    *,
    conn: Connection,
    principal: Principal,
    region: str | None = None,
    discipline: str | None = None,
    organization: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 20,
    sort: str | None = None,
) -> ExpertPage:
    """One page of experts, filtered and sorted."""
    require_any(principal, "expert", "read")
    where: builtins.list[str] = []
    params: builtins.list[Any] = []
    for column, value in (("region", region), ("organization", organization)):
        if value:
            where.append(f"p.{column} = %s")
            params.append(value)
    if discipline:
        where.append("%s = ANY(p.disciplines)")
        params.append(discipline)
    if q:
        cond, more = store.keyword_condition(("name", "bio", "keywords[]", "disciplines[]"), q)
        where.append(cond)
        params += more
    rows, total = store.fetch_page(
        conn,
        "experts",
        where=where,
        params=params,
        order=store.order_by(sort, SORTABLE, "-created_at"),
        page=page,
        page_size=page_size,
    )
    return ExpertPage(items=[to_read(r) for r in rows], total=total, page=page, page_size=page_size)


def _write(conn: Connection, values: dict[str, Any], *, only_new: bool = False) -> tuple[int, bool]:
    expert_id, created, changed = store.upsert(conn, "experts", values, only_new=only_new)
    if changed:
        record_change(conn, "experts", expert_id)
    return expert_id, created


def upsert_record(*, conn: Connection, record: ExpertRecord) -> tuple[int, bool]:
    """Store an interchange record by external_id (import); returns (id, created)."""
    values = record.model_dump(include={"external_id", *FIELDS})
    return _write(conn, {**values, "extra": dict(record.model_extra or {})})


def create(*, conn: Connection, principal: Principal, data: ExpertCreate) -> ExpertRead:
    """Create an expert profile."""
    require_any(principal, "expert", "create")
    values, _ = reference.normalise_record(
        conn=conn, library="experts", data=data.model_dump(include=set(FIELDS))
    )
    values["region"] = values["region"] or principal.region
    values.update(external_id=data.external_id or store.new_external_id("E"), extra=data.extra)
    require(principal, "expert", "create", values)
    expert_id, _ = _write(conn, values, only_new=True)
    return to_read(_row_or_raise(conn, expert_id))


def update(
    *, conn: Connection, principal: Principal, expert_id: int, data: ExpertUpdate
) -> ExpertRead:
    """Change the given fields of an expert profile."""
    row = _row_or_raise(conn, expert_id, lock=True)
    require(principal, "expert", "update", row)
    changes, _ = reference.normalise_record(
        conn=conn, library="experts", data=data.model_dump(exclude_unset=True)
    )
    for name in ("name", "disciplines", "keywords", "extra"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} 不能为空 / {name} cannot be null", field=name)
    merged = {**row, **changes}
    require(principal, "expert", "update", merged)
    _write(conn, {k: merged[k] for k in ("external_id", *FIELDS, "extra")})
    return to_read(_row_or_raise(conn, expert_id))


def delete(*, conn: Connection, principal: Principal, expert_id: int) -> None:
    """Delete an expert profile (its accounts stay, unlinked)."""
    row = _row_or_raise(conn, expert_id, lock=True)
    require(principal, "expert", "delete", row)
    conn.execute("DELETE FROM experts WHERE id = %s", (expert_id,))
    record_change(conn, "experts", expert_id, "delete")


def iter_records(*, conn: Connection) -> Iterator[dict[str, Any]]:
    """Every expert as an interchange record (contract fields, then extra), by id."""
    with conn.cursor(name="export_experts") as cur:
        cur.execute("SELECT * FROM experts ORDER BY id")
        for row in cur:
            yield {"external_id": row["external_id"], **{f: row[f] for f in FIELDS}, **row["extra"]}
