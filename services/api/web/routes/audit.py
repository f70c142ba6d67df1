"""The audit log in the portal: browse, filter and export (admins: all; sub-centers: region)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core import sheets
from greenplat.core.audit import service as audit
from greenplat.core.errors import InvalidInput

from ..deps import Viewer, WebRoute, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)
FILTERS = ("action", "actor", "library", "external_id", "region", "since", "until")
COLUMNS = ("at", "actor", "actor_role", "action", "library", "external_id", "region", "rows")


def _filters(v: Viewer) -> dict[str, Any]:
    given = {k: (v.request.query_params.get(k) or "").strip() or None for k in FILTERS}
    for name in ("since", "until"):
        if given[name]:
            try:
                given[name] = date.fromisoformat(given[name])
            except ValueError:
                message = f"日期格式应为 YYYY-MM-DD / {name} must be YYYY-MM-DD"
                raise InvalidInput(message, field=name) from None
    return given


def _page_number(v: Viewer) -> int:
    value = v.request.query_params.get("page") or "1"
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput("页码须 ≥ 1 / page must be at least 1", field="page")
    return int(value)


@router.get("/admin/audit", include_in_schema=False)
def audit_page(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """One page of entries, newest first, with the filters in the query string."""
    me = v.require("audit", "read")
    filters = _filters(v)
    page = audit.list_entries(conn=conn, principal=me, page=_page_number(v), **filters)
    query = urlencode({k: str(val) for k, val in filters.items() if val})
    return render(
        v,
        "admin/audit.html",
        page=page,
        filters={k: ("" if val is None else str(val)) for k, val in filters.items()},
        actions=audit.ACTIONS,
        query=query,
    )


def _sheet(v: Viewer, conn: Conn) -> sheets.Sheet:
    me = v.require("audit", "read")
    entries = audit.iter_entries(conn=conn, principal=me, **_filters(v))
    rows = [[*(e[c] for c in COLUMNS), e["detail"]] for e in entries]
    for row in rows:
        row[3] = v.t(f"audit.action.{row[3]}")
        row[-1] = str(row[-1]) if row[-1] else ""
    audit.record(conn, actor=me, action="export", library="audit", region=me.region, rows=len(rows))
    header = [v.t(f"audit.col.{c}") for c in (*COLUMNS, "detail")]
    return sheets.Sheet(v.t("audit.title"), header, rows)


def _name(v: Viewer, suffix: str) -> str:
    return sheets.file_name(v.me.region, v.t("audit.title"), day=date.today(), suffix=suffix)


@router.get("/admin/audit/export.csv", include_in_schema=False)
def export_csv(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The filtered entries as CSV."""
    body = sheets.csv_text(_sheet(v, conn), v.lang)
    disposition = sheets.content_disposition(_name(v, ".csv"))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.get("/admin/audit/export.xlsx", include_in_schema=False)
def export_xlsx(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The filtered entries as an XLSX workbook."""
    body = sheets.xlsx_bytes([_sheet(v, conn)], v.lang)
    disposition = sheets.content_disposition(_name(v, ".xlsx"))
    return Response(body, media_type=sheets.XLSX, headers={"Content-Disposition": disposition})
