"""The server-rendered portal: pages for enterprises, experts, sub-centers and platform admins."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from greenplat.api.errors import http_error


def mount(app: FastAPI) -> None:
    """Add the portal's pages and its static assets (served by the platform itself)."""
    from greenplat.api.web.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    static = resources.files("greenplat.api.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_exception_handler(StarletteHTTPException, _not_found_page)


async def _not_found_page(request: Request, exc: Exception) -> Response:
    """A browser on an unknown address gets the portal's 404 page; API clients the JSON."""
    from greenplat.api.web.deps import missing_page, wants_page

    if not isinstance(exc, StarletteHTTPException):
        raise exc  # registered for HTTPException only
    if exc.status_code == 404 and wants_page(request):
        return await missing_page(request)
    return await http_error(request, exc)
