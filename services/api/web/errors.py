"""Domain errors in the reader's language: catalogue messages, field labels, role names."""

from __future__ import annotations

from typing import Any

from greenplat.core.errors import DomainError, InvalidInput

from .forms import REASONS
from .i18n import Translator

# A parameter of this name holds a code the catalogue names under this prefix.
_CODED_PARAMS = {
    "role": "role.",
    "status": "status.",
    "statuses": "status.",
    "field": "field.",
    "resource": "resource.",
    "stage": "stage.",
    "reason": "",  # a whole catalogue key (valid.date)
}


def field_label(field: str | None, t: Translator) -> str | None:
    """The field's label (标题 / Title), or None for a field the catalogue does not name."""
    if not field or not t.has(f"field.{field}"):
        return None
    return t(f"field.{field}")


def _param(name: str, value: Any, t: Translator) -> Any:
    prefix = _CODED_PARAMS.get(name)
    if prefix is None:
        return value
    if isinstance(value, list | tuple):
        sep = "、" if t.lang == "zh-CN" else ", "
        return sep.join(str(_param(name, item, t)) for item in value)
    key = f"{prefix}{value}"
    if t.has(key):
        return t(key)
    # A code the catalogue does not name never reaches the reader as such.
    return t("error.unnamed_field") if name == "field" else value


def describe(error: DomainError, t: Translator) -> str:
    """The error's message in the reader's language."""
    if error.key and t.has(error.key):
        params = {name: _param(name, value, t) for name, value in error.params.items()}
        try:
            return t(error.key, **params)
        except (KeyError, IndexError):
            pass  # a parameter the catalogue's text names is missing: the plain message
    # Messages without a catalogue key read "中文 / English": the reader's half.
    return t.half(error.message)


def inline(error: DomainError, t: Translator) -> dict[str, str]:
    """The error as a form's errors: next to its field, or above the form."""
    return {error.field or "form": describe(error, t)}


def on_form(error: DomainError) -> bool:
    """Whether the error is about what the form says (shown next to it), not about access."""
    return error.status in (409, 422)


def from_validation(field: str, error_type: str, message: str) -> InvalidInput:
    """Bad input in a page's path or query, named by its label and a reason in words."""
    reason = REASONS.get(error_type, "valid.pattern")
    return InvalidInput(
        message, field=field, key="error.invalid_value", params={"field": field, "reason": reason}
    )


class Unexpected(DomainError):
    """A failure the reader did not cause: the page says so without any detail."""

    status = 500
    code = "internal"

    def __init__(self) -> None:
        super().__init__("服务器内部错误，请稍后再试 / internal server error", key="error.internal")
