"""Reading and writing interchange files: JSON Lines, CSV and XLSX, one record per row."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from greenplat.core.errors import InvalidInput

FORMATS = (".jsonl", ".csv", ".xlsx")
LIST_SEPARATOR = ";"


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


def read_rows(path: Path) -> list[Row]:
    """Every row of the file, read before anything is stored so a broken file stores nothing."""
    suffix = file_format(path)
    if not path.is_file():
        raise UnreadableFile(f"文件不存在：{path} / file not found: {path}", field="file")
    try:
        if suffix == ".jsonl":
            return list(_read_jsonl(path))
        if suffix == ".csv":
            return list(_read_csv(path))
        return list(_read_xlsx(path))
    except UnreadableFile:
        raise
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise UnreadableFile(
            f"无法读取文件 {path.name}：{e} / cannot read {path.name}: {e}", field="file"
        ) from e


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as e:
                yield Row(number, None, f"JSON 格式错误 / malformed JSON: {e.msg}")
                continue
            if not isinstance(data, dict):
                yield Row(number, None, "每行须是一个 JSON 对象 / each line must be a JSON object")
                continue
            yield Row(number, data)


def _cells_to_record(header: list[str], cells: list[Any], line: int) -> Row:
    if len(cells) > len(header) and any(c not in (None, "") for c in cells[len(header) :]):
        return Row(line, None, "单元格多于表头列数 / more cells than header columns")
    data = {}
    for name, value in zip(header, cells, strict=False):
        # An empty cell is an absent field, as if the column were not there.
        if name and value is not None and value != "":
            data[name] = value
    return Row(line, data)


def _check_header(header: list[str], path: Path) -> list[str]:
    names = [str(h).strip() if h is not None else "" for h in header]
    if "external_id" not in names:
        raise UnreadableFile(
            f"{path.name} 的表头缺少 external_id 列 / header of {path.name} has no external_id",
            field="file",
        )
    return names


def _read_csv(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)
        header = next(reader, None)
        if header is None:
            raise UnreadableFile(f"{path.name} 是空文件 / {path.name} is empty", field="file")
        names = _check_header(header, path)
        for number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                yield _cells_to_record(names, cells, number)


def _xlsx_text(value: Any) -> Any:
    """A cell as the text a CSV would hold, so both formats validate the same way."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


def _read_xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise UnreadableFile(f"{path.name} 是空表 / {path.name} is empty", field="file")
        names = _check_header(list(header), path)
        for number, cells in enumerate(rows, start=2):
            values = [_xlsx_text(c) for c in cells]
            if any(v not in (None, "") for v in values):
                yield _cells_to_record(names, values, number)
    finally:
        workbook.close()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _cell(value: Any) -> Any:
    value = _json_value(value)
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


def write_records(path: Path, fields: tuple[str, ...], records: Iterable[dict[str, Any]]) -> int:
    """Write records (contract fields first, then any extra fields); returns how many."""
    suffix = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".jsonl":
        count = 0
        with path.open("w", encoding="utf-8") as f:
            for record in records:
                row = {k: _json_value(v) for k, v in record.items() if v is not None}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        return count
    rows = list(records)
    columns = _columns(fields, rows)
    table = [[_cell(r.get(c)) for c in columns] for r in rows]
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(table)
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
        sheet.append([c if c is None or isinstance(c, int | float) else str(c) for c in cells])
    workbook.save(path)
