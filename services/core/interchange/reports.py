"""Sheets people download around an import: the empty template of a library, and the report
of the rows an import rejected (row, field, reason in the reader's language, the row's values).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from greenplat.core.errors import InvalidInput
from greenplat.core.interchange.headers import COLUMNS, label
from greenplat.core.interchange.models import RejectedRow
from greenplat.core.interchange.service import check_library
from greenplat.core.messages import in_language
from greenplat.core.sheets import XLSX, Sheet, csv_text, xlsx_bytes

TEMPLATE_FORMATS = ("csv", "xlsx")
_WORDS = {
    "zh-CN": {
        "guide": "说明",
        "column": "列名",
        "label": "中文表头",
        "required": "必填",
        "also": "也可写作",
        "yes": "是",
        "line": "行号",
        "field": "字段",
        "reason": "原因",
        "report": "未导入的行",
    },
    "en": {
        "guide": "guide",
        "column": "column",
        "label": "label",
        "required": "required",
        "also": "also read",
        "yes": "yes",
        "line": "row",
        "field": "field",
        "reason": "reason",
        "report": "rejected rows",
    },
}


def _words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def template_sheets(library: str, lang: str) -> list[Sheet]:
    """A library's import template: the contract's columns, then a guide to each column."""
    check_library(library)
    w = _words(lang)
    columns = COLUMNS[library]
    guide = [
        [c.name, c.zh, w["yes"] if c.required else "", "、".join((c.en, *c.aliases))]
        for c in columns
    ]
    return [
        Sheet(library, [c.name for c in columns], []),
        Sheet(w["guide"], [w["column"], w["label"], w["required"], w["also"]], guide),
    ]


def report_sheet(library: str, rows: Iterable[RejectedRow], lang: str) -> Sheet:
    """The rejected rows: row number, field label, reason, then the values as given."""
    w = _words(lang)
    rows = list(rows)
    names = [c.name for c in COLUMNS[library]]
    extra = sorted({k for r in rows for k in (r.original or {})} - set(names))
    values = [*names, *extra]
    table: list[list[Any]] = [
        [
            r.line,
            label(library, r.field, lang) if r.field else "",
            in_language(r.reason, lang),
            *[(r.original or {}).get(name) for name in values],
        ]
        for r in rows
    ]
    return Sheet(w["report"], [w["line"], w["field"], w["reason"], *values], table)


def as_file(sheets: list[Sheet], fmt: str, lang: str) -> tuple[bytes, str]:
    """The sheets as a download: (body, media type). CSV holds the first sheet alone."""
    if fmt == "xlsx":
        return xlsx_bytes(sheets, lang), XLSX
    if fmt == "csv":
        return csv_text(sheets[0], lang).encode("utf-8"), "text/csv; charset=utf-8"
    message = f"不支持的格式 {fmt}，可选 csv、xlsx / unsupported format {fmt}"
    raise InvalidInput(message, field="format")
