"""Field types shared by the three libraries: the limits every input passes through."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

_LIST_SPLIT = re.compile(r"[;；]")


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
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000), NoNul
]
# Constraints sit on the inner type: applied to an explicit null they would raise TypeError.
ShortText = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul] | None,
    BeforeValidator(_blank_to_none),
]
OptionalLongText = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000), NoNul] | None,
    BeforeValidator(_blank_to_none),
]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
TermList = Annotated[list[Term], BeforeValidator(_split_list), Field(max_length=100)]
IdList = Annotated[list[ExternalId], BeforeValidator(_split_list), Field(max_length=200)]
OptionalNumber = BeforeValidator(_blank_to_none)
