"""Interchange files: JSON Lines, CSV and XLSX, one record per row; writing them safely.

A spreadsheet runs a cell starting with = + - @ (or a tab or carriage return) as a formula.
Exports write such text as text: XLSX cells typed as strings with a quote prefix, CSV cells
escaped with a leading apostrophe that the CSV import removes again, so a round trip keeps
the text exactly. Reading lives in reading.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from greenplat.core.errors import InvalidInput

FORMATS = (".jsonl", ".csv", ".xlsx")
LIST_SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


class UnreadableFile(InvalidInput):
    """The file cannot be read at all (missing, unknown format, broken)."""

    code = "unreadable_file"


@dataclass(frozen=True)
class Row:
    """One record read from a file: its line (JSONL) or row number (CSV/XLSX, header = 1)."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None


def file_format(path: Path) -> str:
    """The format named by the file's extension; raises UnreadableFile for others."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UnreadableFile(
            f"不支持的文件类型 {suffix or '(无扩展名)'}，请用 .jsonl、.csv 或 .xlsx / "
            f"unsupported file type {suffix!r}: use .jsonl, .csv or .xlsx",
            field="file",
        )
    return suffix


def json_value(value: Any) -> Any:
    """A cell's value as JSON holds it (decimals as numbers, dates as YYYY-MM-DD)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _cell(value: Any) -> Any:
    value = json_value(value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _columns(fields: tuple[str, ...], records: list[dict[str, Any]]) -> list[str]:
    extra = sorted({k for r in records for k in r} - set(fields))
    return [*fields, *extra]


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula."""
    return text.startswith(FORMULA_STARTS)


def escape_csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run, prefixed with an apostrophe; other values unchanged.

    Text already starting with an apostrophe before such a character (or before another
    apostrophe) is prefixed too, so unescape_csv_cell gives every text back exactly.
    """
    if not isinstance(value, str):
        return value
    if is_formula_like(value) or (value.startswith(ESCAPE) and _escaped_body(value[1:])):
        return ESCAPE + value
    return value


def _escaped_body(rest: str) -> bool:
    return is_formula_like(rest) or rest.startswith(ESCAPE)


def unescape_csv_cell(text: str) -> str:
    """The text escape_csv_cell was given (the one apostrophe it added removed)."""
    if text.startswith(ESCAPE) and _escaped_body(text[1:]):
        return text[1:]
    return text


def write_csv(out: TextIO, table: Iterable[list[Any]]) -> None:
    """Rows of cells as CSV, text that a spreadsheet would run escaped."""
    writer = csv.writer(out)
    for cells in table:
        writer.writerow([escape_csv_cell(c) for c in cells])


def xlsx_cells(sheet: Any, cells: list[Any]) -> list[Any]:
    """Cells for a write-only sheet: text stays text, never a formula (quote prefix shown)."""
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for value in cells:
        if not isinstance(value, str):
            out.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
        out.append(cell)
    return out


def write_records(path: Path, fields: tuple[str, ...], records: Iterable[dict[str, Any]]) -> int:
    """Write records (contract fields first, then any extra fields); returns how many."""
    suffix = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".jsonl":
        count = 0
        with path.open("w", encoding="utf-8") as f:
            for record in records:
                row = {k: json_value(v) for k, v in record.items() if v is not None}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        return count
    rows = list(records)
    columns = _columns(fields, rows)
    table = [[_cell(r.get(c)) for c in columns] for r in rows]
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            write_csv(f, [columns, *table])
    else:
        _write_xlsx(path, columns, table)
    return len(rows)


def _write_xlsx(path: Path, columns: list[str], table: list[list[Any]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("records")
    sheet.append(columns)
    for cells in table:
        # Text cells stay text (an id like "007" must not become the number 7).
        text = [c if c is None or isinstance(c, int | float) else str(c) for c in cells]
        sheet.append(xlsx_cells(sheet, text))
    workbook.save(path)
