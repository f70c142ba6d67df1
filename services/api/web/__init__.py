"""The server-rendered portal: pages for enterprises, experts, sub-centers and platform admins."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount(app: FastAPI) -> None:
    """Add the portal's pages and its static assets (served by the platform itself)."""
    from greenplat.api.web.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    static = resources.files("greenplat.api.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
