"""Structured logs: one JSON object a line, with the request id of the work in hand."""

from __future__ import annotations

import io
import json
import logging

import pytest

from greenplat.core.logging import (
    accept_request_id,
    bound_request_id,
    configure_logging,
    request_id,
)


@pytest.fixture
def json_logs(settings):
    """Configure JSON logging into a buffer; restore the root logger after."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging(settings.model_copy(update={"log_json": True}), stream=buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_the_bound_request_id_and_extras(json_logs):
    log = logging.getLogger("greenplat.test")
    with bound_request_id("req-42"):
        log.info("indexed %d rows", 3, extra={"library": "problems"})
    log.warning("outside any request")
    inside, outside = json_logs()
    assert inside["message"] == "indexed 3 rows"
    assert inside["request_id"] == "req-42"
    assert inside["library"] == "problems"
    assert inside["level"] == "info" and inside["logger"] == "greenplat.test"
    assert "request_id" not in outside
    assert request_id.get() is None


def test_exceptions_are_logged_inside_the_json_object(json_logs):
    try:
        raise ValueError("坏数据 bad row")
    except ValueError:
        logging.getLogger("greenplat.test").exception("import failed")
    (record,) = json_logs()
    assert "坏数据 bad row" in record["exc_info"] and record["message"] == "import failed"


def test_configuring_twice_keeps_one_handler(json_logs, settings):
    second = io.StringIO()
    configure_logging(settings.model_copy(update={"log_json": True}), stream=second)
    logging.getLogger("greenplat.test").info("once")
    assert json_logs() == []  # the first handler is gone
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["once"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123", True), ("a" * 64, True), ("a" * 65, False), ("x\ny", False), ("", False)],
)
def test_only_sane_request_ids_are_accepted(given, kept):
    assert (accept_request_id(given) == given) is kept
