"""Exports of whole libraries in the interchange formats, within the viewer's reach."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core import sheets
from greenplat.core.errors import InvalidInput
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import FORMATS

from ..deps import Viewer, WebRoute, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)
MEDIA = {".jsonl": "application/x-ndjson", ".csv": "text/csv; charset=utf-8", ".xlsx": sheets.XLSX}


@router.get("/exports", include_in_schema=False)
def exports_page(v: Viewer = Depends(signed_in)) -> Response:
    """A download per library and format."""
    v.require("export", "run")
    formats = [f.lstrip(".") for f in FORMATS]
    return render(v, "exports.html", libraries=interchange.LIBRARIES, formats=formats)


@router.get("/exports/{library}.{fmt}", include_in_schema=False)
def export_library(library: str, fmt: str, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """Every record of the library the viewer may export (a sub-center: its region)."""
    me = v.require("export", "run")
    interchange.check_library(library)
    suffix = f".{fmt}"
    if suffix not in FORMATS:
        raise InvalidInput(f"不支持的格式 {fmt} / unsupported format {fmt}", field="format")
    name = sheets.file_name(
        me.region or v.t("stats.all_regions"), v.t(f"library.{library}"),
        day=date.today(), suffix=suffix,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        interchange.export_file(conn=conn, principal=me, library=library, path=path)
        body = path.read_bytes()
    return Response(
        body,
        media_type=MEDIA[suffix],
        headers={"Content-Disposition": sheets.content_disposition(name)},
    )
