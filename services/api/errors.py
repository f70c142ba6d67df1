"""One error shape for every failure, and the request-body size limit.

{"error": {"code": "...", "message": "<中文 / English>", "fields": [{"field", "message"}]}}
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from greenplat.core.errors import DomainError, InvalidInput, Throttled
from greenplat.core.messages import field_message

log = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict:
    """The one error shape."""
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def field_path(loc: tuple[Any, ...]) -> str:
    """'budget_wan' or 'keywords.3' from a pydantic location (without body/query prefixes)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    if len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], int):
        return "body"  # the position in the text of malformed JSON
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [
        {"field": field_path(tuple(e["loc"])), "message": field_message(e)} for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        body = error_body("malformed_json", "请求体不是有效的 JSON / malformed JSON body", fields)
        return JSONResponse(body, status_code=400)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    body = error_body("invalid", f"输入有误 / invalid input — {summary}", fields)
    return JSONResponse(body, status_code=422)


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    fields = [{"field": exc.field, "message": exc.message}] if exc.field else []
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(
        error_body(exc.code, exc.message, fields), status_code=exc.status, headers=headers
    )


_HTTP_MESSAGES = {
    400: ("malformed_body", "请求体无法解析 / the request body cannot be parsed"),
    404: ("not_found", "地址不存在 / not found"),
    405: ("method_not_allowed", "不支持该请求方法 / method not allowed"),
    413: ("too_large", "请求体过大 / request body too large"),
}


def _allowed_methods(request: Request) -> str:
    # Each method of a path is its own route; Starlette's 405 names the first route's only.
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
    fields = [{"field": "body", "message": message}] if exc.status_code == 400 else []
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return JSONResponse(
        error_body(code, message, fields), status_code=exc.status_code, headers=headers
    )


_DATA_REFUSED = (
    "数据无法保存：含不支持的字符或超出范围的数值 / "
    "the data cannot be stored: unsupported characters or out-of-range numbers"
)


async def _data_error(request: Request, exc: psycopg.DataError) -> JSONResponse:
    # Input the schemas let through but PostgreSQL refuses (e.g. NUL inside a JSON object).
    log.warning("database refused input on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(error_body("invalid", _DATA_REFUSED), status_code=422)


def as_domain_error(exc: RequestValidationError | psycopg.DataError) -> DomainError:
    """Bad input caught outside a service, as the domain error the portal shows as a page."""
    if isinstance(exc, psycopg.DataError):
        log.warning("database refused input: %s", exc)
        return InvalidInput(_DATA_REFUSED)
    first = exc.errors()[0]
    field = field_path(tuple(first["loc"]))
    return InvalidInput(f"输入有误 / invalid input — {field}: {field_message(first)}", field=field)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body = error_body("internal", "服务器内部错误，请稍后再试 / internal server error")
    return JSONResponse(body, status_code=500)


_E = TypeVar("_E", bound=Exception)


def _handle(
    app: FastAPI, exc_class: type[_E], handler: Callable[[Request, _E], Awaitable[Response]]
) -> None:
    # Starlette calls a handler only with instances of the class it is registered for, which its
    # ExceptionHandler type (any Exception) cannot say; the TypeVar keeps the pair checked here.
    app.add_exception_handler(exc_class, cast(ExceptionHandler, handler))


def install(app: FastAPI) -> None:
    """Register the handlers that map every error to the one shape."""
    _handle(app, RequestValidationError, _validation_error)
    _handle(app, DomainError, _domain_error)
    _handle(app, StarletteHTTPException, http_error)
    _handle(app, psycopg.DataError, _data_error)
    _handle(app, Exception, _unexpected)


class BodyLimit:
    """Refuse bodies over max_bytes with 413, by Content-Length or while reading a chunked body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            error_body(
                "too_large",
                f"请求体过大，最多 {self.max_bytes} 字节 / body larger than {self.max_bytes} bytes",
            ),
            status_code=413,
        )
        await response(scope, receive, send)
