"""Field types shared by the three libraries: the limits every input passes through."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

_LIST_SPLIT = re.compile(r"[;；]")
# The longest texts, in characters: the validation below and the portal's counters use these.
TITLE_MAX = 300
LONG_TEXT_MAX = 20000
SHORT_TEXT_MAX = 200
COMMENT_MAX = 2000


def _split_list(value: Any) -> Any:
    """Accept a list, or one string with items separated by ';' (as in CSV and XLSX cells)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in _LIST_SPLIT.split(value) if item.strip()]
    return value


def _refuse_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refusing it here names the field instead of failing later.
    if "\x00" in value:
        raise ValueError("不能包含 NUL 字符 / must not contain NUL characters")
    return value


NoNul = AfterValidator(_refuse_nul)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


ExternalId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NoNul,
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX), NoNul
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG_TEXT_MAX), NoNul
]
# Constraints sit on the inner type: applied to an explicit null they would raise TypeError.
ShortText = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=SHORT_TEXT_MAX), NoNul]
    | None,
    BeforeValidator(_blank_to_none),
]
OptionalLongText = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=LONG_TEXT_MAX), NoNul]
    | None,
    BeforeValidator(_blank_to_none),
]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
TermList = Annotated[list[Term], BeforeValidator(_split_list), Field(max_length=100)]
IdList = Annotated[list[ExternalId], BeforeValidator(_split_list), Field(max_length=200)]
OptionalNumber = BeforeValidator(_blank_to_none)
