"""Per-request context for the API: a request id in every log line, latency in Prometheus."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenplat.core.logging import REQUEST_ID_HEADER, accept_request_id, bound_request_id
from greenplat.core.metrics import HTTP_REQUEST_SECONDS, MATCH_SECONDS

log = logging.getLogger("greenplat.api.access")
# Routes that compute matches (feedback on matches is not one).
MATCH_ROUTES = (
    "/v1/matches/problems/",
    "/v1/matches/experts/",
    "/v1/matches/achievements/",
    "/v1/matches/inbox",
    "/v1/matches/assign",
    "/v1/search",
)
# Probes and scrapes arrive every few seconds; logging them would drown the real traffic.
_QUIET = {"/healthz", "/readyz", "/metrics"}


class RequestContext:
    """ASGI middleware: binds X-Request-ID (given or new), echoes it, times the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        rid = accept_request_id(given)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.lower().encode(), rid.encode()),
                ]
            await send(message)

        with bound_request_id(rid):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        HTTP_REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(seconds)
        if route.startswith(MATCH_ROUTES):
            MATCH_SECONDS.observe(seconds)
        if route not in _QUIET:
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                extra={"method": scope["method"], "path": scope["path"], "status": status},
            )
