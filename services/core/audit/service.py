"""Writing and reading the audit log (the table refuses UPDATE and DELETE: 0061_audit_log.sql).

Changes of records are written by database triggers, with the actor this module sets on the
transaction; reads of confidential problems, sign-ins, imports, exports and merges are written
here by the service that does them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from psycopg.types.json import Jsonb

from greenplat.core import store
from greenplat.core.audit.models import AuditEntry, AuditPage
from greenplat.core.db import Connection
from greenplat.core.logging import request_id
from greenplat.core.permissions import Principal, Scope, require_any, sees_full_problem

ACTIONS = (
    "insert",
    "update",
    "delete",
    "role_change",
    "read",
    "login",
    "login_failed",
    "import",
    "export",
    "merge",
    "distinct",
    "alias",
    "withdraw",
    "restore",
)
_COLUMNS = (
    "id, at, actor, actor_role, action, library, external_id, region, rows, detail, request_id"
)


# The actor's settings for the transaction, as select-list expressions over an account's
# username, id and role (each %s one parameter: actor_params): set_actor selects them alone,
# and the sign-in by token selects them with the account row, saving a round trip per request.
_ACTOR_SETTINGS = (
    "set_config('greenplat.actor', {username}, true),"
    " set_config('greenplat.actor_id', {id}, true),"
    " set_config('greenplat.actor_role', {role}, true),"
    " set_config('greenplat.request_id', %s, true)"
)


def actor_settings(user: str) -> str:
    """Select-list SQL that names the account row aliased `user` (users columns) as the actor
    of the current transaction; it takes actor_params() as its parameters."""
    return _ACTOR_SETTINGS.format(
        username=f"{user}.username", id=f"{user}.id::text", role=f"{user}.role"
    )


def actor_params() -> tuple[str]:
    """The parameters of actor_settings (the request id)."""
    return (request_id.get() or "",)


def set_actor(conn: Connection, principal: Principal) -> None:
    """Name the principal as the actor of every change the current transaction makes."""
    conn.execute(
        "SELECT " + _ACTOR_SETTINGS.format(username="%s", id="%s", role="%s"),
        (principal.username, str(principal.id or ""), principal.role, *actor_params()),
    )


def record(
    conn: Connection,
    *,
    actor: Principal | str,
    action: str,
    library: str | None = None,
    record_id: int | None = None,
    external_id: str | None = None,
    region: str | None = None,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry."""
    who = actor if isinstance(actor, Principal) else None
    conn.execute(
        "INSERT INTO audit_log (actor_id, actor, actor_role, action, library, record_id,"
        " external_id, region, rows, detail, request_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            who.id if who else None,
            who.username if who else actor,
            who.role if who else None,
            action,
            library,
            record_id,
            external_id,
            region,
            rows,
            Jsonb(detail or {}),
            request_id.get(),
        ),
    )


def read_problem(conn: Connection, principal: Principal, row: dict[str, Any]) -> None:
    """Log a full read of a confidential problem (redacted reads reveal nothing to log)."""
    if row.get("confidential") and sees_full_problem(principal, row):
        record(
            conn,
            actor=principal,
            action="read",
            library="problems",
            record_id=row["id"],
            external_id=row["external_id"],
            region=row.get("region"),
        )


def _where(principal: Principal, filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    scope = require_any(principal, "audit", "read")
    params = {k: (v or None) for k, v in filters.items()}
    # A sub-center sees the entries of its region only.
    params["scope_region"] = None if Scope.ALL in scope else (principal.region or "\x00")
    where = (
        "(%(scope_region)s::text IS NULL OR region = %(scope_region)s)"
        " AND (%(action)s::text IS NULL OR action = %(action)s)"
        " AND (%(actor)s::text IS NULL OR actor = %(actor)s)"
        " AND (%(library)s::text IS NULL OR library = %(library)s)"
        " AND (%(external_id)s::text IS NULL OR external_id = %(external_id)s)"
        " AND (%(region)s::text IS NULL OR region = %(region)s)"
        " AND (%(since)s::date IS NULL OR at >= %(since)s::date)"
        " AND (%(until)s::date IS NULL OR at < %(until)s::date + 1)"
    )
    return where, params


def _filters(**given: Any) -> dict[str, Any]:
    names = ("action", "actor", "library", "external_id", "region", "since", "until")
    return {name: given.get(name) for name in names}


def list_entries(
    *,
    conn: Connection,
    principal: Principal,
    page: int = 1,
    page_size: int = 50,
    **filters: str | date | None,
) -> AuditPage:
    """One page of entries the principal may see, newest first."""
    store.check_page(page, page_size)
    where, params = _where(principal, _filters(**filters))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM audit_log WHERE {where} ORDER BY at DESC, id DESC"
        " LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": page_size, "offset": (page - 1) * page_size},
    ).fetchall()
    counted = conn.execute(f"SELECT count(*) AS n FROM audit_log WHERE {where}", params)
    total = sum(r["n"] for r in counted)
    items = [AuditEntry(**r) for r in rows]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)


def iter_entries(
    *, conn: Connection, principal: Principal, **filters: str | date | None
) -> Iterator[dict[str, Any]]:
    """Every entry the principal may see, newest first (for export)."""
    where, params = _where(principal, _filters(**filters))
    with conn.cursor() as cursor:
        yield from cursor.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE {where} ORDER BY at DESC, id DESC", params
        )


def log_import(conn: Connection, principal: Principal, library: str, report: Any) -> None:
    """Log an import with its row counts (report: interchange.ImportReport)."""
    record(
        conn,
        actor=principal,
        action="import",
        library=library,
        region=principal.region,
        rows=report.total,
        detail={
            "created": report.created,
            "updated": report.updated,
            "rejected": len(report.rejected),
            "mapped": len(report.mapped),
        },
    )


def log_failed_login(conn: Connection, username: str) -> None:
    """Log a refused sign-in on the request's connection: a failed sign-in keeps its writes
    (SignInFailed.keeps_writes), so no second connection is needed while the throttle's lock
    is held."""
    record(conn, actor=username, action="login_failed", library="users")
