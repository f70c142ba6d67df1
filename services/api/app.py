"""The FastAPI application: routers under /v1, one error shape, OpenAPI at /docs."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from greenplat.api import errors
from greenplat.api.observability import RequestContext
from greenplat.api.openapi import API_ERRORS
from greenplat.api.routes import ROUTERS
from greenplat.api.security import SecurityHeaders
from greenplat.api.web import mount as mount_portal
from greenplat.core.db import leave_embedded
from greenplat.core.logging import configure_logging
from greenplat.core.notifications.dispatcher import MailDispatcher
from greenplat.core.settings import Settings, get_settings
from greenplat.indexer.embedding import ModelNotReady
from greenplat.platform import Platform, open_platform

log = logging.getLogger(__name__)

DESCRIPTION = (
    "绿平台 greenplat：企业技术难题、科技成果与专家的匹配平台。"
    " Technology matching between enterprise problems, research achievements and experts."
    " 先用 POST /v1/auth/token 登录，再点 Authorize / sign in with POST /v1/auth/token."
)


def start_mailer(platform: Platform) -> MailDispatcher | None:
    """Deliver notification e-mails as they are written (only with an SMTP server set)."""
    if not platform.settings.smtp_host:
        return None
    mailer = MailDispatcher(platform.db, platform.settings)
    mailer.start()
    return mailer


def warm(platform: Platform) -> None:
    """Before the first request: load what a first search would wait for (Matcher.warm).

    Without prepared models the platform still serves everything else, as before."""
    started = time.perf_counter()
    try:
        with platform.db.session() as conn:
            settled = platform.matcher.warm(conn)
    except ModelNotReady as exc:
        log.warning("search not warmed: %s", exc)
        return
    log.info(
        "search warmed in %.1f s (%d objects left out of garbage collection)",
        time.perf_counter() - started,
        settled,
    )


def create_app(
    platform: Platform | None = None, settings: Settings | None = None, *, worker: bool = False
) -> FastAPI:
    """The app; with a platform given (tests) it is used, else one is opened at start-up.

    worker: the app is one of `greenplat serve --workers N`'s processes (`worker_app`).
    """
    settings = platform.settings if platform is not None else settings or get_settings()
    if platform is None:
        configure_logging(settings)  # a served app: before the server's first log line

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if platform is not None:
            app.state.platform = platform
            yield
            return
        opened = open_platform(settings)
        if settings.warm_search:
            warm(opened)
        # index changes as they commit: in-process, or as drain tasks for the workers
        opened.indexer.start_dispatcher()
        mailer = start_mailer(opened)
        app.state.platform = opened
        try:
            yield
        finally:
            if mailer is not None:
                mailer.stop()
            opened.close()
            if worker:
                leave_embedded(settings)

    app = FastAPI(
        title="绿平台 greenplat API",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
    )
    if platform is not None:
        # Available without running the lifespan (a TestClient not used as a context manager).
        app.state.platform = platform
    errors.install(app)
    for router in ROUTERS:
        # Every /v1 operation documents the shared error responses; ops endpoints their own.
        shared = API_ERRORS if router.prefix.startswith("/v1") else None
        app.include_router(router, responses=shared)
    mount_portal(app)
    app.add_middleware(errors.BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)  # every response carries X-Request-ID
    app.add_middleware(SecurityHeaders)  # outermost: on every response, errors included
    return app


def _stop_with(parent: int) -> None:
    """Shut this worker down (as uvicorn does on SIGTERM) once its parent is gone: a server
    killed with SIGKILL cannot stop its workers, which would go on holding the port and the
    embedded PostgreSQL."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def worker_app() -> FastAPI:
    """The app of one of `greenplat serve --workers N`'s processes (uvicorn imports this in
    each); settings come from the environment the server set."""
    threading.Thread(
        target=_stop_with, args=(os.getppid(),), name="greenplat-parent-watch", daemon=True
    ).start()
    return create_app(settings=get_settings(), worker=True)
