"""Files browsers ask for at fixed paths: /favicon.ico."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter()
_DAY = 86_400


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """The platform's icon (the pages also link /static/favicon.svg)."""
    icon = (resources.files("greenplat.api.web") / "static" / "favicon.ico").read_bytes()
    return Response(
        icon, media_type="image/x-icon", headers={"Cache-Control": f"public, max-age={_DAY}"}
    )
