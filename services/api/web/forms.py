"""Posted forms checked against the service schemas, with errors named per field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from greenplat.core.conversations.models import BODY_LIMIT
from greenplat.core.fields import COMMENT_MAX, LONG_TEXT_MAX, TITLE_MAX
from greenplat.matcher.feedback import LIMITS as FEEDBACK_LIMITS

from .i18n import Translator

M = TypeVar("M", bound=BaseModel)

# Form field -> the longest text the core's validation takes: the pages' counters and
# maxlength come from here, so a page never promises more (or less) than the server keeps.
LIMITS: dict[str, int] = {
    "title": TITLE_MAX,
    "description": LONG_TEXT_MAX,
    "abstract": LONG_TEXT_MAX,
    "public_summary": LONG_TEXT_MAX,
    "bio": LONG_TEXT_MAX,
    "comment": COMMENT_MAX,
    "body": BODY_LIMIT,
    **FEEDBACK_LIMITS,
}

# pydantic error type -> catalogue key
REASONS = {
    "missing": "valid.required",
    "string_too_short": "valid.required",
    "string_too_long": "valid.too_long",
    "too_long": "valid.too_many",
    "greater_than_equal": "valid.range",
    "less_than_equal": "valid.range",
    "decimal_parsing": "valid.number",
    "decimal_max_places": "valid.number",
    "float_parsing": "valid.number",
    "int_parsing": "valid.number",
    "date_from_datetime_parsing": "valid.date",
    "date_parsing": "valid.date",
    "string_pattern_mismatch": "valid.pattern",
    "literal_error": "valid.choice",
}


def field_errors(error: ValidationError, t: Translator) -> dict[str, str]:
    """One message per field, in the viewer's language."""
    errors: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(field, _message(item, t))
    return errors


def _message(item: Any, t: Translator) -> str:
    if item["type"] == "string_too_long" and isinstance(item.get("input"), str):
        # Say how far over: text pasted past the counter is kept for the writer to shorten.
        limit = (item.get("ctx") or {}).get("max_length", 0)
        return t("error.too_long", max=limit, n=len(item["input"].strip()))
    key = REASONS.get(item["type"])
    if key:
        return t(key)
    # A validator's own words ("中文 / English"): the reader's half.
    return t.half(str(item["msg"]).removeprefix("Value error, "))


def parse(model: type[M], data: dict[str, Any], t: Translator) -> tuple[M | None, dict[str, str]]:
    """The model built from the form, or None and the errors by field."""
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        return None, field_errors(error, t)


def checkbox(data: dict[str, Any], name: str) -> bool:
    """Whether a checkbox was ticked."""
    return data.get(name) in ("on", "true", "1", True)


def only(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of the form (a form may carry buttons and tokens besides)."""
    return {k: data[k] for k in names if k in data}
