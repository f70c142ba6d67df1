"""The records a match starts from, looked up by id or external id, and paging of ranked lists."""

from __future__ import annotations

from collections.abc import Sequence

from greenplat.core.db import Connection
from greenplat.core.errors import NotFound
from greenplat.core.permissions import Principal, problem_found_filter
from greenplat.indexer.documents import indexed_condition

TABLES = {"problems": "问题", "achievements": "成果", "experts": "专家"}


def get_or_raise(conn: Connection, library: str, record_id: int) -> dict:
    """The row of a library with this id, or NotFound."""
    row = conn.execute(f"SELECT * FROM {library} WHERE id = %s", (record_id,)).fetchone()
    if row is None:
        name = TABLES[library]
        raise NotFound(f"{name} {record_id} 不存在 / {library[:-1]} {record_id} not found")
    return row


def get_id_by_external_id(conn: Connection, library: str, external_id: str) -> int:
    """The id of the record with this external_id, or NotFound."""
    row = conn.execute(
        f"SELECT id FROM {library} WHERE external_id = %s", (external_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"{library[:-1]} {external_id!r} not found", field="external_id")
    return row["id"]


def by_external_ids(conn: Connection, library: str, ids: set[str]) -> dict[str, dict]:
    """Rows of a library keyed by external_id; unknown ids are left out."""
    rows = conn.execute(
        f"SELECT * FROM {library} WHERE external_id = ANY(%s)", (list(ids),)
    ).fetchall()
    return {row["external_id"]: row for row in rows}


def by_ids(
    conn: Connection,
    library: str,
    ids: list[int],
    *,
    indexed: bool = False,
    reader: Principal | None = None,
    statuses: Sequence[str] | None = None,
) -> dict[int, dict]:
    """Rows of a library keyed by id; unknown ids are left out, and with `indexed` the
    records the index no longer holds (documents.indexed_condition: a withdrawn
    achievement whose change the outbox has not yet carried to the index).

    Problems, with `reader`: only those the reader may find in a search (readable, and not
    confidential unless readable in full), with `statuses` only those in them: checked on
    the rows, as the index's copy of both lags a change until the outbox drains."""
    where, params = "", []
    if indexed:
        where += f" AND ({indexed_condition(library)})"
    if library == "problems" and statuses is not None:
        where += " AND t.status = ANY(%s)"
        params.append(list(statuses))
    if library == "problems" and reader is not None:
        found, more = problem_found_filter(reader, "t")
        where += f" AND {found}"
        params += more
    rows = conn.execute(
        f"SELECT * FROM {library} t WHERE id = ANY(%s){where}", [ids, *params]
    ).fetchall()
    return {row["id"]: row for row in rows}


def unique(rows: list[dict]) -> list[dict]:
    """Rows without repeats of the same id."""
    return list({row["id"]: row for row in rows}.values())


def window(items: list, page: int, page_size: int) -> tuple[list, bool]:
    """One page of a ranked list, and whether more follow."""
    start = (page - 1) * page_size
    return items[start : start + page_size], len(items) > start + page_size
