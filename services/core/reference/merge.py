"""Merging one value of a reference list into another: preview, confirm, move, audit."""

from __future__ import annotations

from dataclasses import dataclass, field

from psycopg import sql

from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import Conflict, InvalidInput
from greenplat.core.outbox import LIBRARIES, record_changes
from greenplat.core.permissions import Principal, require_any
from greenplat.core.reference.lists import key, reference_list
from greenplat.core.reference.service import KIND_NAMES, vocabulary

# kind: (table, column, column holds a list)
HOLDERS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "region": (("problems", "region", False), ("experts", "region", False),
               ("organizations", "region", False)),
    "industry": (("problems", "industry", False),),
    "discipline": (("achievements", "discipline", False), ("experts", "disciplines", True)),
}  # fmt: skip
_LABEL = {"organizations": "name"}


@dataclass
class MergePreview:
    """What a merge would move: records per table, a few of their ids, and the total."""

    kind: str
    source: str
    target: str
    moves: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.moves.values())


def _match(column: str, is_list: bool) -> sql.Composable:
    if is_list:
        return sql.SQL("%(source)s = ANY({c})").format(c=sql.Identifier(column))
    return sql.SQL("{c} = %(source)s").format(c=sql.Identifier(column))


def records_using(conn: Connection, kind: str, value: str) -> int:
    """How many records carry this value."""
    return sum(_count(conn, t, c, lst, value) for t, c, lst in HOLDERS[kind])


def _count(conn: Connection, table: str, column: str, is_list: bool, value: str) -> int:
    query = sql.SQL("SELECT count(*) AS n FROM {t} WHERE ").format(t=sql.Identifier(table))
    counted = conn.execute(query + _match(column, is_list), {"source": value})
    return sum(r["n"] for r in counted)


def _check(conn: Connection, kind: str, source: str, target: str) -> None:
    if target not in vocabulary(conn=conn, kind=kind).canonical.values():
        raise InvalidInput(
            f"「{target}」不是有效的{KIND_NAMES[kind]} / {target!r} is not a valid {kind}",
            field="target",
        )
    if source == target:
        raise InvalidInput("合并的两个值相同 / source and target are the same", field="source")
    if (
        kind == "region"
        and conn.execute("SELECT 1 FROM users WHERE region = %s LIMIT 1", (source,)).fetchone()
    ):
        raise Conflict(
            f"「{source}」仍有账号，请先调整账号地区 / accounts still belong to {source}",
            field="source",
        )


def preview(
    *, conn: Connection, principal: Principal, kind: str, source: str, target: str
) -> MergePreview:
    """The records a merge of source into target would move (nothing is changed)."""
    require_any(principal, "reference", "manage")
    _check(conn, kind, source, target)
    result = MergePreview(kind, source, target)
    for table, column, is_list in HOLDERS[kind]:
        label = sql.Identifier(_LABEL.get(table, "external_id"))
        query = sql.SQL("SELECT {l} AS label FROM {t} WHERE ").format(
            l=label, t=sql.Identifier(table)
        )
        ordered = query + _match(column, is_list) + sql.SQL(" ORDER BY 1 LIMIT 5")
        result.moves[table] = _count(conn, table, column, is_list, source)
        result.samples[table] = [r["label"] for r in conn.execute(ordered, {"source": source})]
    return result


def _move(conn: Connection, table: str, column: str, is_list: bool, p: MergePreview) -> None:
    c = sql.Identifier(column)
    value = (
        sql.SQL("ARRAY(SELECT DISTINCT unnest(array_replace({c}, %(source)s, %(target)s)))")
        if is_list
        else sql.SQL("%(target)s")
    ).format(c=c)
    stamp = sql.SQL("") if table == "organizations" else sql.SQL(", updated_at = now()")
    query = sql.SQL("UPDATE {t} SET {c} = {v}{s} WHERE ").format(
        t=sql.Identifier(table), c=c, v=value, s=stamp
    )
    moved = conn.execute(
        query + _match(column, is_list) + sql.SQL(" RETURNING id"),
        {"source": p.source, "target": p.target},
    ).fetchall()
    if table in LIBRARIES:
        record_changes(conn, table, [r["id"] for r in moved])


def merge(
    *,
    conn: Connection,
    principal: Principal,
    kind: str,
    source: str,
    target: str,
    expected: int,
) -> MergePreview:
    """Move every record from source to target, as previewed; source becomes an alias."""
    planned = preview(conn=conn, principal=principal, kind=kind, source=source, target=target)
    if planned.total != expected:
        raise Conflict(
            f"预览后记录数已变化（现为 {planned.total}），请重新预览 / records changed since the "
            f"preview: {planned.total} now, {expected} confirmed",
            field="expected",
        )
    audit.set_actor(conn, principal)
    for table, column, is_list in HOLDERS[kind]:
        _move(conn, table, column, is_list, planned)
    if source not in reference_list(kind).names() and key(kind, source):
        conn.execute(
            "INSERT INTO reference_aliases (kind, alias_key, alias, canonical, created_by)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kind, alias_key) DO UPDATE"
            " SET canonical = EXCLUDED.canonical",
            (kind, key(kind, source), source, target, principal.id),
        )
    audit.record(
        conn,
        actor=principal,
        action="merge",
        library=kind,
        external_id=source,
        region=target if kind == "region" else None,
        rows=planned.total,
        detail={"source": source, "target": target, "moves": planned.moves},
    )
    return planned
