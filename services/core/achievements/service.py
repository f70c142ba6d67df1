"""Achievements (科技成果): readable by everyone, written by their experts and sub-centers."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

from greenplat.core import store
from greenplat.core.achievements.models import (
    AchievementCreate,
    AchievementPage,
    AchievementRead,
    AchievementRecord,
    AchievementUpdate,
    published_sql,
)
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import InvalidInput, NotFound
from greenplat.core.outbox import record_change
from greenplat.core.permissions import Principal, allows, only_own, require, require_any
from greenplat.core.reference import service as reference

# Field names of AchievementRead, looked up per row (model_fields is a descriptor, 13x a set).
_ACHIEVEMENT_READ_FIELDS = frozenset(AchievementRead.model_fields)

FIELDS = (
    "title",
    "abstract",
    "keywords",
    "kind",
    "discipline",
    "year",
    "organization",
    "expert_ids",
)
SORTABLE = ("created_at", "updated_at", "title", "year", "kind", "id")


def _row(conn: Connection, achievement_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    lock_sql = " FOR UPDATE" if lock else ""
    return conn.execute(
        f"SELECT * FROM achievements WHERE id = %s{lock_sql}", (achievement_id,)
    ).fetchone()


def _row_or_raise(conn: Connection, achievement_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = _row(conn, achievement_id, lock=lock)
    if row is None:
        raise _not_found(achievement_id)
    return row


def _not_found(achievement_id: int) -> NotFound:
    return NotFound(f"成果 {achievement_id} 不存在 / achievement {achievement_id} not found")


def region_of(conn: Connection, record: dict[str, Any]) -> str | None:
    """An achievement's region: its organization's, else that of one of its experts."""
    row = conn.execute(
        "SELECT region FROM organizations WHERE name = %s AND region IS NOT NULL "
        "UNION ALL SELECT region FROM experts WHERE external_id = ANY(%s) AND region IS NOT NULL "
        "LIMIT 1",
        (record.get("organization"), record.get("expert_ids") or []),
    ).fetchone()
    return row["region"] if row else None


def _with_region(conn: Connection, record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "region": region_of(conn, record)}


def manages(*, conn: Connection, principal: Principal, record: dict[str, Any]) -> bool:
    """Whether the principal may edit and withdraw this achievement (its experts, its
    sub-center, platform staff)."""
    return allows(principal, "achievement", "update", _with_region(conn, record))


def _visible(conn: Connection, principal: Principal, row: dict[str, Any] | None) -> bool:
    # A withdrawn achievement is gone for everyone but those who may manage it.
    if row is None:
        return False
    return row["status"] == "published" or manages(conn=conn, principal=principal, record=row)


def to_read(row: dict[str, Any]) -> AchievementRead:
    """The achievement as the API shows it."""
    return AchievementRead(**{k: v for k, v in row.items() if k in _ACHIEVEMENT_READ_FIELDS})


def get(*, conn: Connection, principal: Principal, achievement_id: int) -> AchievementRead | None:
    """The achievement with this id, or None."""
    require_any(principal, "achievement", "read")
    row = _row(conn, achievement_id)
    return to_read(row) if row and _visible(conn, principal, row) else None


def get_or_raise(*, conn: Connection, principal: Principal, achievement_id: int) -> AchievementRead:
    """Like get, raising NotFound."""
    require_any(principal, "achievement", "read")
    row = _row_or_raise(conn, achievement_id)
    if not _visible(conn, principal, row):
        raise _not_found(achievement_id)
    return to_read(row)


def get_to_manage(*, conn: Connection, principal: Principal, external_id: str) -> AchievementRead:
    """The achievement with this external_id, if the principal may edit and withdraw it
    (else Forbidden; NotFound when it may not even see it)."""
    found = get_by_external_id_or_raise(conn=conn, principal=principal, external_id=external_id)
    require(principal, "achievement", "update", _with_region(conn, found.model_dump()))
    return found


def get_by_external_id(
    *, conn: Connection, principal: Principal, external_id: str
) -> AchievementRead | None:
    """The achievement with this external_id, or None."""
    require_any(principal, "achievement", "read")
    row = conn.execute(
        "SELECT * FROM achievements WHERE external_id = %s", (external_id,)
    ).fetchone()
    return to_read(row) if row and _visible(conn, principal, row) else None


def get_by_external_id_or_raise(
    *, conn: Connection, principal: Principal, external_id: str
) -> AchievementRead:
    """Like get_by_external_id, raising NotFound."""
    found = get_by_external_id(conn=conn, principal=principal, external_id=external_id)
    if found is None:
        raise NotFound(f"成果 {external_id} 不存在 / achievement {external_id} not found")
    return found


def list(
    *,
    conn: Connection,
    principal: Principal,
    discipline: str | None = None,
    kind: str | None = None,
    organization: str | None = None,
    expert_id: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 20,
    sort: str | None = None,
    withdrawn: bool = False,
) -> AchievementPage:
    """One page of achievements, filtered and sorted; withdrawn=True lists the withdrawn ones
    of one expert (expert_id), to those who may manage them."""
    require_any(principal, "achievement", "read")
    if withdrawn:
        return _withdrawn(conn, principal, expert_id, page_size)
    where: builtins.list[str] = [published_sql("p")]
    params: builtins.list[Any] = []
    for column, value in (
        ("discipline", discipline),
        ("kind", kind),
        ("organization", organization),
    ):
        if value:
            where.append(f"p.{column} = %s")
            params.append(value)
    if expert_id:
        where.append("%s = ANY(p.expert_ids)")
        params.append(expert_id)
    if q:
        cond, more = store.keyword_condition(("title", "abstract", "keywords[]"), q)
        where.append(cond)
        params += more
    rows, total = store.fetch_page(
        conn,
        "achievements",
        where=where,
        params=params,
        order=store.order_by(sort, SORTABLE, "-created_at"),
        page=page,
        page_size=page_size,
    )
    return AchievementPage(
        items=[to_read(r) for r in rows], total=total, page=page, page_size=page_size
    )


def _withdrawn(
    conn: Connection, principal: Principal, expert_id: str | None, limit: int
) -> AchievementPage:
    # An expert's list is short: each row is checked against the permission table itself.
    rows = conn.execute(
        "SELECT * FROM achievements WHERE status = 'withdrawn' AND %s = ANY(expert_ids)"
        " ORDER BY withdrawn_at DESC, id DESC LIMIT %s",
        (expert_id or "", limit),
    ).fetchall()
    items = [to_read(r) for r in rows if manages(conn=conn, principal=principal, record=r)]
    return AchievementPage(items=items, total=len(items), page=1, page_size=limit)


def _write(conn: Connection, values: dict[str, Any], *, only_new: bool = False) -> tuple[int, bool]:
    achievement_id, created, changed = store.upsert(conn, "achievements", values, only_new=only_new)
    if changed:
        record_change(conn, "achievements", achievement_id)
    return achievement_id, created


def upsert_record(*, conn: Connection, record: AchievementRecord) -> tuple[int, bool]:
    """Store an interchange record by external_id (import); returns (id, created)."""
    values = record.model_dump(include={"external_id", *FIELDS})
    return _write(conn, {**values, "extra": dict(record.model_extra or {})})


def create(*, conn: Connection, principal: Principal, data: AchievementCreate) -> AchievementRead:
    """Create an achievement; an expert is always among the experts of its own."""
    require_any(principal, "achievement", "create")
    values, _ = reference.normalise_record(
        conn=conn, library="achievements", data=data.model_dump(include=set(FIELDS))
    )
    own = principal.expert_external_id
    if only_own(principal, "achievement", "create") and own and own not in values["expert_ids"]:
        values["expert_ids"] = [*values["expert_ids"], own]
    values.update(external_id=data.external_id or store.new_external_id("A"), extra=data.extra)
    require(principal, "achievement", "create", _with_region(conn, values))
    achievement_id, _ = _write(conn, values, only_new=True)
    return to_read(_row_or_raise(conn, achievement_id))


def update(
    *,
    conn: Connection,
    principal: Principal,
    achievement_id: int,
    data: AchievementUpdate,
) -> AchievementRead:
    """Change the given fields of an achievement."""
    row = _row_or_raise(conn, achievement_id, lock=True)
    require(principal, "achievement", "update", _with_region(conn, row))
    changes, _ = reference.normalise_record(
        conn=conn, library="achievements", data=data.model_dump(exclude_unset=True)
    )
    for name in ("title", "abstract", "kind", "keywords", "expert_ids", "extra"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} 不能为空 / {name} cannot be null", field=name)
    merged = {**row, **changes}
    # Checked again on the result, so nobody edits a record out of their own reach.
    require(principal, "achievement", "update", _with_region(conn, merged))
    _write(conn, {k: merged[k] for k in ("external_id", *FIELDS, "extra")})
    return to_read(_row_or_raise(conn, achievement_id))


def _set_status(
    conn: Connection, principal: Principal, achievement_id: int, status: str
) -> AchievementRead:
    row = _row_or_raise(conn, achievement_id, lock=True)
    if not _visible(conn, principal, row):
        raise _not_found(achievement_id)
    require(principal, "achievement", "withdraw", _with_region(conn, row))
    if row["status"] != status:
        audit.set_actor(conn, principal)
        conn.execute(
            "UPDATE achievements SET status = %s, updated_at = now(),"
            " withdrawn_at = CASE WHEN %s = 'withdrawn' THEN now() END WHERE id = %s",
            (status, status, achievement_id),
        )
        audit.record(
            conn,
            actor=principal,
            action="withdraw" if status == "withdrawn" else "restore",
            library="achievements",
            record_id=achievement_id,
            external_id=row["external_id"],
            region=region_of(conn, row),
        )
        # The indexer finds it withdrawn and drops it (or restored, and indexes it again).
        record_change(conn, "achievements", achievement_id)
    return to_read(_row_or_raise(conn, achievement_id))


def withdraw(*, conn: Connection, principal: Principal, achievement_id: int) -> AchievementRead:
    """Withdraw an achievement: it leaves search, matching, exports and public pages."""
    return _set_status(conn, principal, achievement_id, "withdrawn")


def restore(*, conn: Connection, principal: Principal, achievement_id: int) -> AchievementRead:
    """Publish a withdrawn achievement again."""
    return _set_status(conn, principal, achievement_id, "published")


def delete(*, conn: Connection, principal: Principal, achievement_id: int) -> None:
    """Delete an achievement."""
    row = _row_or_raise(conn, achievement_id, lock=True)
    require(principal, "achievement", "delete", _with_region(conn, row))
    conn.execute("DELETE FROM achievements WHERE id = %s", (achievement_id,))
    record_change(conn, "achievements", achievement_id, "delete")


def iter_records(*, conn: Connection) -> Iterator[dict[str, Any]]:
    """Every achievement as an interchange record (contract fields, then extra), by id."""
    with conn.cursor(name="export_achievements") as cur:
        # A withdrawn achievement is not exported: it is no longer part of the library.
        cur.execute(f"SELECT * FROM achievements WHERE {published_sql()} ORDER BY id")
        for row in cur:
            yield {"external_id": row["external_id"], **{f: row[f] for f in FIELDS}, **row["extra"]}
