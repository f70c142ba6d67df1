"""Reference lists in the portal: aliases (also from an import report) and merges."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core.errors import InvalidInput
from greenplat.core.reference import merge, service
from greenplat.core.reference.lists import KINDS

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)


def _kind(value: object) -> str:
    kind = str(value or "region")
    service.check_kind(kind)
    return kind


def _page(
    v: Viewer, conn: Conn, kind: str, preview: dict[str, Any] | None = None, status: int = 200
) -> Response:
    return render(
        v,
        "admin/reference.html",
        status=status,
        kind=kind,
        kinds=KINDS,
        listing=service.describe_list(conn=conn, kind=kind),
        choices=service.choices(conn=conn, kind=kind),
        preview=preview,
    )


@router.get("/admin/reference", include_in_schema=False)
def reference_page(conn: Conn, v: Viewer = Depends(signed_in), kind: str = "region") -> Response:
    """A list with its source, the aliases added, and the forms to add one or merge."""
    v.require("reference", "manage")
    return _page(v, conn, _kind(kind))


@router.post("/admin/reference/aliases", include_in_schema=False)
async def add_alias(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """Add an alias (from this page or from an import report's unknown values)."""
    me = v.require("reference", "manage")
    data = await form_of(v)
    kind = _kind(data.get("kind"))
    service.add_alias(
        conn=conn,
        principal=me,
        kind=kind,
        alias=str(data.get("alias") or ""),
        canonical=str(data.get("canonical") or ""),
    )
    return redirect(f"/admin/reference?kind={quote(kind)}&ok=flash.alias_added")


@router.post("/admin/reference/merge", include_in_schema=False)
async def merge_values(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """First post: a preview of the records that would move. Confirmed: the merge."""
    me = v.require("reference", "manage")
    data = await form_of(v)
    kind = _kind(data.get("kind"))
    pair = {k: str(data.get(k) or "").strip() for k in ("source", "target")}
    if data.get("expected") is None:
        planned = merge.preview(conn=conn, principal=me, kind=kind, **pair)
        return _page(v, conn, kind, preview={**asdict(planned), "total": planned.total})
    expected = str(data.get("expected"))
    if not expected.isdigit():
        raise InvalidInput("确认数须为整数 / expected must be a whole number", field="expected")
    merge.merge(conn=conn, principal=me, kind=kind, expected=int(expected), **pair)
    return redirect(f"/admin/reference?kind={quote(kind)}&ok=flash.merged")
