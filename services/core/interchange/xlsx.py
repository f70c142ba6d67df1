"""XLSX sheets read row by row, after refusing a zip bomb before anything is expanded.

An XLSX is a zip: what its entries declare (count, uncompressed sizes, compression ratio)
and what its sheet declares (dimension, number of <row> elements, counted while streaming)
decide whether it is read at all. Python's zipfile never inflates an entry past its declared
size, so checking the declared sizes bounds what reading can expand.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string

from greenplat.core.interchange.formats import UnreadableFile

MAX_ENTRIES = 1000
MAX_COLUMNS = 200
# Apache POI's zip-bomb rule: an entry over the grace size may not inflate more than 100 times.
MAX_RATIO = 100
RATIO_GRACE_BYTES = 1024 * 1024
_ROW_TAGS = (b"<row ", b"<row>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+\d+:)?(?P<col>[A-Z]+)(?P<row>\d+)"')
_TAIL = 4  # shorter than a row tag: no tag is counted twice across chunks


def _refuse(path: Path, reason: str) -> UnreadableFile:
    return UnreadableFile(
        f"拒绝读取 {path.name}：{reason} / refused {path.name}: {reason}",
        field="file",
    )


def check_archive(path: Path, archive: zipfile.ZipFile, max_unzipped: int) -> None:
    """Refuse an archive whose entries declare too much (count, total size, ratio)."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise _refuse(path, f"压缩包条目超过 {MAX_ENTRIES} / more than {MAX_ENTRIES} entries")
    total = sum(e.file_size for e in entries)
    if total > max_unzipped:
        raise _refuse(
            path,
            f"解压后 {total} 字节，超过上限 {max_unzipped} / "
            f"{total} bytes unzipped, over the limit of {max_unzipped}",
        )
    for e in entries:
        if e.file_size > RATIO_GRACE_BYTES and e.file_size > MAX_RATIO * max(e.compress_size, 1):
            raise _refuse(
                path,
                f"{e.filename} 压缩比超过 {MAX_RATIO} 倍（疑似压缩炸弹） / "
                f"{e.filename} inflates more than {MAX_RATIO} times (a zip bomb)",
            )


def count_rows(archive: zipfile.ZipFile, name: str, stop: int) -> int:
    """<row> elements of a sheet, counted while streaming it; stops once over stop."""
    count, tail = 0, b""
    with archive.open(name) as f:
        while chunk := f.read(1 << 20):
            data = tail + chunk
            count += sum(data.count(tag) for tag in _ROW_TAGS)
            if count > stop:
                break
            tail = data[-_TAIL:]
    return count


def _too_many_rows(path: Path, max_rows: int) -> UnreadableFile:
    return _refuse(
        path,
        f"表格超过行数上限 {max_rows} / the sheet holds more rows than the limit of {max_rows}",
    )


def first_sheet(path: Path) -> str:
    """The zip entry of the workbook's first worksheet, read from its manifest alone."""
    from openpyxl.reader.excel import ExcelReader

    reader = ExcelReader(str(path), read_only=True)
    try:
        reader.read_manifest()
        reader.read_workbook()
        for _, rel in reader.parser.find_sheets():
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
                return rel.target
    finally:
        reader.archive.close()
    raise KeyError("no worksheet")


def declared_size(archive: zipfile.ZipFile, name: str) -> tuple[int, int] | None:
    """(rows, columns) the sheet's <dimension> declares, if it does (read from its start)."""
    with archive.open(name) as f:
        start = f.read(64 * 1024)
    found = _DIMENSION.search(start)
    if found is None:
        return None
    return int(found["row"]), column_index_from_string(found["col"].decode())


def _check_sheet(path: Path, archive: zipfile.ZipFile, name: str, max_rows: int) -> None:
    """Refuse a sheet declaring (dimension) or holding (<row> count) more than the caps."""
    size = declared_size(archive, name)
    if size is not None and size[1] > MAX_COLUMNS:
        raise _refuse(path, f"列数超过 {MAX_COLUMNS} / more than {MAX_COLUMNS} columns")
    # One header row, then at most max_rows data rows.
    if size is not None and size[0] > max_rows + 1:
        raise _too_many_rows(path, max_rows)
    rows = count_rows(archive, name, max_rows + 1)
    if rows > max_rows + 1:
        raise _too_many_rows(path, max_rows)


@contextlib.contextmanager
def open_sheet(
    path: Path, max_rows: int, max_unzipped: int
) -> Iterator[Iterator[tuple[int, list[Any]]]]:
    """(row number, cells) of the first sheet, header first, after the zip-bomb checks.

    The checks run before openpyxl opens the workbook: without a declared dimension,
    openpyxl reads the whole sheet once just to size it.
    """
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(path, archive, max_unzipped)
            _check_sheet(path, archive, first_sheet(path), max_rows)
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError) as e:
        raise _refuse(path, str(e)) from e
    try:
        yield _rows(workbook.worksheets[0])
    finally:
        workbook.close()


def _rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = [_text(c) for c in cells]
        if number == 1 or any(v not in (None, "") for v in values):
            yield number, values


def _text(value: Any) -> Any:
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
