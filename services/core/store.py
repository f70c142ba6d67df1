"""SQL shared by the three libraries: one upsert on external_id, filtered pages, sorting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from greenplat.core.db import Connection, one
from greenplat.core.errors import Conflict, InvalidInput

MAX_PAGE_SIZE = 100


def new_external_id(prefix: str) -> str:
    """A fresh external_id such as 'P-3f9a1c2b7d'."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def upsert(
    conn: Connection,
    table: str,
    values: dict[str, Any],
    *,
    keep_when_null: Sequence[str] = (),
    only_new: bool = False,
) -> tuple[int, bool, bool]:
    """Insert or update the row with values['external_id']; returns (id, created, changed).

    An update that would change nothing leaves the row (and its updated_at) untouched, so
    re-running an import or the demo load changes nothing. Columns in keep_when_null keep
    their stored value when the new one is None (e.g. a problem's owner on re-import).
    With only_new, an existing external_id raises Conflict instead (create, not import).
    """
    values = {k: Jsonb(v) if k == "extra" else v for k, v in values.items()}
    cols = list(values)
    updatable = [c for c in cols if c != "external_id"]

    def new_value(c: str) -> sql.Composable:
        if c in keep_when_null:
            return sql.SQL("COALESCE(EXCLUDED.{c}, t.{c})").format(c=sql.Identifier(c))
        return sql.SQL("EXCLUDED.{c}").format(c=sql.Identifier(c))

    on_conflict = (
        "DO NOTHING"
        if only_new
        else "DO UPDATE SET {sets}, updated_at = now() "
        "WHERE ({current}) IS DISTINCT FROM ({incoming})"
    )
    query = sql.SQL(
        "WITH old AS (SELECT id FROM {table} WHERE external_id = %(external_id)s) "
        "INSERT INTO {table} AS t ({cols}) VALUES ({vals}) "
        f"ON CONFLICT (external_id) {on_conflict} "
        "RETURNING t.id, NOT EXISTS (SELECT 1 FROM old) AS created"
    ).format(
        table=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
        vals=sql.SQL(", ").join(sql.Placeholder(c) for c in cols),
        sets=sql.SQL(", ").join(
            sql.SQL("{c} = {v}").format(c=sql.Identifier(c), v=new_value(c)) for c in updatable
        ),
        current=sql.SQL(", ").join(sql.SQL("t.{c}").format(c=sql.Identifier(c)) for c in updatable),
        incoming=sql.SQL(", ").join(new_value(c) for c in updatable),
    )
    row = conn.execute(query, values).fetchone()
    if row is not None:
        return row["id"], row["created"], True
    if only_new:
        raise Conflict(
            f"编号 {values['external_id']} 已存在 / external_id already exists",
            field="external_id",
        )
    # The conflicting row is locked by the upsert above, so it is still there.
    same = one(
        conn,
        sql.SQL("SELECT id FROM {t} WHERE external_id = %s").format(t=sql.Identifier(table)),
        (values["external_id"],),
    )
    return same["id"], False, False


def order_by(
    sort: str | None,
    allowed: Sequence[str],
    default: str,
    expressions: dict[str, str] | None = None,
) -> sql.Composable:
    """ORDER BY for 'field' or '-field' (descending) from a whitelist; id breaks ties.

    expressions maps a field to the SQL it sorts by instead of its column.
    """
    text = sort or default
    descending = text.startswith("-")
    name = text.lstrip("-")
    if name not in allowed:
        raise InvalidInput(
            f"不支持按 {name} 排序，可选：{', '.join(allowed)} / cannot sort by {name}",
            field="sort",
        )
    direction = sql.SQL("DESC NULLS LAST" if descending else "ASC NULLS LAST")
    expression = (expressions or {}).get(name)
    column = sql.SQL(expression) if expression else sql.Identifier(name)
    return sql.SQL("ORDER BY {c} {d}, id {d}").format(c=column, d=direction)


def check_page(page: int, page_size: int) -> None:
    """Refuse pages outside 1.. and page sizes outside 1..MAX_PAGE_SIZE."""
    if page < 1:
        raise InvalidInput("页码须 ≥ 1 / page must be at least 1", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"每页条数须在 1 到 {MAX_PAGE_SIZE} 之间 / page_size must be 1..{MAX_PAGE_SIZE}",
            field="page_size",
        )


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching text anywhere, with its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fetch_page(
    conn: Connection,
    table: str | sql.Composable,
    *,
    where: list[str],
    params: list[Any],
    order: sql.Composable,
    page: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    """The rows of one page of table (alias p) matching every condition, and the total.

    table may be a subquery (a Composable in parentheses) whose parameters come first.
    """
    check_page(page, page_size)
    condition = " AND ".join(where) or "TRUE"
    source = sql.Identifier(table) if isinstance(table, str) else table
    query = sql.SQL(
        "SELECT p.*, count(*) OVER () AS _total FROM {t} AS p WHERE {w} {o} LIMIT %s OFFSET %s"
    ).format(t=source, w=sql.SQL(condition), o=order)
    rows = conn.execute(query, [*params, page_size, (page - 1) * page_size]).fetchall()
    if rows:
        return rows, rows[0]["_total"]
    total = one(
        conn,
        sql.SQL("SELECT count(*) AS n FROM {t} AS p WHERE {w}").format(
            t=source, w=sql.SQL(condition)
        ),
        params,
    )["n"]
    return rows, total


def keyword_condition(columns: Sequence[str], q: str) -> tuple[str, list[Any]]:
    """An ILIKE condition over text columns and text[] columns (listed with a [] suffix)."""
    parts = []
    for col in columns:
        if col.endswith("[]"):
            parts.append(f"array_to_string(p.{col[:-2]}, ' ') ILIKE %s")
        else:
            parts.append(f"p.{col} ILIKE %s")
    return "(" + " OR ".join(parts) + ")", [like_pattern(q)] * len(columns)
