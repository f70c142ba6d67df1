"""Spreadsheets and CSV files people hand upward: one cell writer, widths, frozen headers,
file names that say what and when."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from greenplat.core.interchange.formats import is_formula_like, write_csv

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WIDTH = 60
_YES_NO = {"zh-CN": ("是", "否"), "en": ("yes", "no")}
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass
class Sheet:
    """One table: a title (the sheet name), a header row and the rows under it."""

    title: str
    header: list[str]
    rows: list[list[Any]]


def cell(value: Any, lang: str = "zh-CN") -> Any:
    """A value as one spreadsheet or CSV cell: every export writes its cells through here."""
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = _YES_NO.get(lang, _YES_NO["en"])
        return yes if value else no
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return value


def _display_width(value: Any) -> int:
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def column_widths(sheet: Sheet) -> list[int]:
    """Each column as wide as its widest cell (CJK characters count double), within limits."""
    widths = [_display_width(h) for h in sheet.header]
    for row in sheet.rows:
        for i, value in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], _display_width(value))
    return [min(max(w + 2, 6), MAX_WIDTH) for w in widths]


def xlsx_bytes(sheets: Iterable[Sheet], lang: str = "zh-CN") -> bytes:
    """A workbook: bold frozen header row, fitted column widths, cells through cell()."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        page = book.create_sheet(sheet.title[:31])
        page.append(sheet.header)
        for row in sheet.rows:
            page.append([cell(v, lang) for v in row])
            _as_text(page[page.max_row])
        for c in page[1]:
            c.font = Font(bold=True)
        page.freeze_panes = "A2"
        for i, width in enumerate(column_widths(sheet), start=1):
            page.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_text(cells: Iterable[Any]) -> None:
    """User text a spreadsheet would run as a formula (=, +, -, @ ...) stays text."""
    for c in cells:
        if isinstance(c.value, str) and is_formula_like(c.value):
            c.data_type = "s"
            c.quotePrefix = True


def csv_text(sheet: Sheet, lang: str = "zh-CN") -> str:
    """One sheet as CSV with a BOM, so spreadsheet programs read Chinese (formulas escaped)."""
    out = io.StringIO()
    write_csv(out, [sheet.header, *([cell(v, lang) for v in row] for row in sheet.rows)])
    return "\ufeff" + out.getvalue()


def file_name(*parts: str | None, day: date, suffix: str) -> str:
    """What and when: 江苏省-统计-2026-12-01.xlsx."""
    words = [_UNSAFE_NAME.sub("_", p).strip() for p in parts if p]
    return "-".join([*words, day.isoformat()]) + suffix


def content_disposition(name: str) -> str:
    """An attachment header any browser reads: ASCII fallback plus RFC 5987 filename*."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
