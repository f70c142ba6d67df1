"""What people do with near-duplicates: a poster checks before submitting, a sub-center
merges a pair or marks it distinct (audited)."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.duplicates.service import Suspect, find
from greenplat.core.errors import InvalidInput, NotFound
from greenplat.core.outbox import record_change
from greenplat.core.permissions import (
    Principal,
    allows,
    posts_for_organization,
    require,
    require_any,
)

RESOURCE = {"problems": "problem", "achievements": "achievement"}
# Who may merge or separate a pair: those who review problems / change achievements.
DECIDE = {"problems": "review", "achievements": "update"}
DECISIONS = ("merged", "distinct")


def check_library(library: str) -> None:
    """Raise InvalidInput unless duplicates are detected in this library."""
    if library not in RESOURCE:
        raise InvalidInput(
            f"只检测需求和成果的重复 / duplicates are checked in problems and achievements, "
            f"not {library}",
            field="library",
        )


def _row(conn: Connection, library: str, external_id: str) -> dict[str, Any]:
    row = conn.execute(
        sql.SQL("SELECT * FROM {t} WHERE external_id = %s").format(t=sql.Identifier(library)),
        (external_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"{external_id} 不存在 / {external_id} not found", field="external_id")
    if library == "achievements":
        from greenplat.core.achievements.service import region_of

        row = {**row, "region": region_of(conn, row)}
    return row


def check(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    title: str,
    body: str,
    organization: str | None = None,
    exclude_id: int | None = None,
) -> list[Suspect]:
    """Near-duplicates of a text about to be posted, among the records the poster may read."""
    check_library(library)
    require_any(principal, RESOURCE[library], "create")
    if posts_for_organization(principal.role):
        organization = principal.organization
    suspects = find(
        conn, library=library, organization=organization, title=title, body=body,
        exclude_id=exclude_id,
    )  # fmt: skip
    return [
        s for s in suspects
        if allows(principal, RESOURCE[library], "read", _row(conn, library, s.external_id))
    ]  # fmt: skip


def list_pairs(
    *, conn: Connection, principal: Principal, library: str, status: str = "suspected"
) -> list[dict[str, Any]]:
    """The pairs found in the principal's reach (a sub-center: its region), newest first."""
    check_library(library)
    require_any(principal, RESOURCE[library], DECIDE[library])
    rows = conn.execute(
        sql.SQL(
            "SELECT d.score, d.status, d.found_at, a.external_id AS record, a.title AS title,"
            " b.external_id AS other, b.title AS other_title FROM duplicate_pairs d"
            " JOIN {t} a ON a.id = d.record_id JOIN {t} b ON b.id = d.other_id"
            " WHERE d.library = %s AND d.status = %s ORDER BY d.found_at DESC LIMIT 500"
        ).format(t=sql.Identifier(library)),
        (library, status),
    ).fetchall()
    resource, action = RESOURCE[library], DECIDE[library]
    return [
        r
        for r in rows
        if allows(principal, resource, action, _row(conn, library, r["record"]))
        and allows(principal, resource, action, _row(conn, library, r["other"]))
    ]


def decide(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    record: str,
    other: str,
    decision: str,
) -> None:
    """Merge record into other (it stops counting on its own) or mark the two distinct."""
    check_library(library)
    if decision not in DECISIONS:
        raise InvalidInput(
            "decision 须为 merged 或 distinct / merged or distinct", field="decision"
        )
    a, b = _row(conn, library, record), _row(conn, library, other)
    if a["id"] == b["id"]:
        raise InvalidInput("不能与自己合并 / a record cannot merge into itself", field="other")
    for row in (a, b):
        require(principal, RESOURCE[library], DECIDE[library], row)
    audit.set_actor(conn, principal)
    if decision == "merged":
        conn.execute(
            sql.SQL("UPDATE {t} SET merged_into = %s, updated_at = now() WHERE id = %s").format(
                t=sql.Identifier(library)
            ),
            (b["id"], a["id"]),
        )
        record_change(conn, library, a["id"])
    conn.execute(
        "INSERT INTO duplicate_pairs (library, record_id, other_id, score, status, decided_by,"
        " decided_at) VALUES (%s, %s, %s, 1, %s, %s, now()) ON CONFLICT (library, record_id,"
        " other_id) DO UPDATE SET status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,"
        " decided_at = now()",
        (library, a["id"], b["id"], decision, principal.id),
    )
    audit.record(
        conn, actor=principal, action="merge" if decision == "merged" else "distinct",
        library=library, record_id=a["id"], external_id=record, region=a.get("region"),
        detail={"other": other, "decision": decision},
    )  # fmt: skip
