"""Regions with their sub-centers."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from greenplat.core.db import Connection, one
from greenplat.core.errors import Conflict, NotFound
from greenplat.core.outbox import record_changes
from greenplat.core.permissions import Principal, require_any
from greenplat.core.reference import merge
from greenplat.core.regions.models import RegionCreate, RegionRead, RegionUpdate


def list_regions(*, conn: Connection) -> list[RegionRead]:
    """Every region, by code (public: the sign-up form offers them)."""
    return [RegionRead(**r) for r in conn.execute("SELECT * FROM regions ORDER BY code")]


def get_region(*, conn: Connection, name: str) -> RegionRead | None:
    """The region with this name, or None."""
    row = conn.execute("SELECT * FROM regions WHERE name = %s", (name,)).fetchone()
    return RegionRead(**row) if row else None


def _region_or_raise(conn: Connection, region_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM regions WHERE id = %s", (region_id,)).fetchone()
    if row is None:
        raise NotFound(
            f"地区 {region_id} 不存在 / region {region_id} not found",
            key="error.region_not_found",
        )
    return row


def _check_unique(conn: Connection, field: str, value: str, region_id: int = 0) -> None:
    if conn.execute(
        f"SELECT 1 FROM regions WHERE {field} = %s AND id <> %s", (value, region_id)
    ).fetchone():
        raise Conflict(
            f"{value} 已存在 / {field} already exists",
            field=field,
            key="error.taken",
            params={"field": field, "value": value},
        )


def _rename_in_records(conn: Connection, old: str, new: str) -> None:
    # Accounts follow by ON UPDATE CASCADE; records name their region as text.
    for table in ("problems", "experts"):
        changed = conn.execute(
            sql.SQL(
                "UPDATE {t} SET region = %s, updated_at = now() WHERE region = %s RETURNING id"
            ).format(t=sql.Identifier(table)),
            (new, old),
        ).fetchall()
        record_changes(conn, table, [r["id"] for r in changed])
    conn.execute("UPDATE organizations SET region = %s WHERE region = %s", (new, old))


def refuse_silent_merge(conn: Connection, new_name: str) -> None:
    """A rename onto a name records already carry would merge them unseen: ask for a merge."""
    used = merge.records_using(conn, "region", new_name)
    if used:
        raise Conflict(
            f"已有 {used} 条记录的地区为「{new_name}」，改名会合并它们，请用合并（先预览）/ "
            f"{used} records already name {new_name!r}: use a merge, with its preview",
            field="name",
            key="error.region_rename_merges",
            params={"n": used, "name": new_name},
        )


def upsert_region(*, conn: Connection, data: RegionCreate) -> tuple[int, bool]:
    """Create the region with this code or bring it up to date; returns (id, created)."""
    row = conn.execute("SELECT * FROM regions WHERE code = %s", (data.code,)).fetchone()
    if row is None:
        _check_unique(conn, "name", data.name)
        new = one(
            conn,
            "INSERT INTO regions (code, name, subcenter_name) VALUES (%s, %s, %s) RETURNING id",
            (data.code, data.name, data.subcenter_name),
        )
        return new["id"], True
    if (row["name"], row["subcenter_name"]) != (data.name, data.subcenter_name):
        _check_unique(conn, "name", data.name, row["id"])
        conn.execute(
            "UPDATE regions SET name = %s, subcenter_name = %s WHERE id = %s",
            (data.name, data.subcenter_name, row["id"]),
        )
        if row["name"] != data.name:
            _rename_in_records(conn, row["name"], data.name)
    return row["id"], False


def create_region(*, conn: Connection, principal: Principal, data: RegionCreate) -> RegionRead:
    """Add a region and its sub-center (platform admins)."""
    require_any(principal, "region", "manage")
    _check_unique(conn, "code", data.code)
    region_id, _ = upsert_region(conn=conn, data=data)
    return RegionRead(**_region_or_raise(conn, region_id))


def update_region(
    *, conn: Connection, principal: Principal, region_id: int, data: RegionUpdate
) -> RegionRead:
    """Rename a region or its sub-center (platform admins); accounts follow the new name."""
    require_any(principal, "region", "manage")
    row = _region_or_raise(conn, region_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    current = {k: row[k] for k in ("code", "name", "subcenter_name")}
    merged = RegionCreate(**{**current, **changes})
    if merged.name != row["name"]:
        refuse_silent_merge(conn, merged.name)
    upsert_region(conn=conn, data=merged)
    return RegionRead(**_region_or_raise(conn, region_id))


def delete_region(*, conn: Connection, principal: Principal, region_id: int) -> None:
    """Remove a region no account belongs to (platform admins)."""
    require_any(principal, "region", "manage")
    row = _region_or_raise(conn, region_id)
    if conn.execute("SELECT 1 FROM users WHERE region = %s LIMIT 1", (row["name"],)).fetchone():
        raise Conflict(
            "该地区仍有账号，不能删除 / accounts still belong to this region",
            key="error.region_has_accounts",
        )
    conn.execute("DELETE FROM regions WHERE id = %s", (region_id,))
