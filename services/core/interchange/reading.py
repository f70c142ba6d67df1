"""Reading interchange files row by row, in bounded memory, with every size capped.

A file is checked when it is opened (header, zip sizes, declared rows), so a file that cannot
be read at all is refused before any row is stored; after that, a bad row (unparseable, too
long, not UTF-8, past the row cap) is reported alone and the good rows go on.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from greenplat.core.interchange import headers, xlsx
from greenplat.core.interchange.formats import Row, UnreadableFile, file_format, unescape_csv_cell
from greenplat.core.settings import Settings

# Physical lines are read in pieces of this many bytes, so one huge line never sits in memory.
PIECE_BYTES = 64 * 1024
# The start of a file must be UTF-8; later lines that are not are rejected alone.
SNIFF_BYTES = 64 * 1024
MAX_COLUMNS = xlsx.MAX_COLUMNS
# What reading a broken file raises (ElementTree's ParseError is a SyntaxError).
_READ_ERRORS = (OSError, ValueError, KeyError, zipfile.BadZipFile, SyntaxError)


@dataclass(frozen=True)
class Limits:
    """The caps of one import (from the import_* settings)."""

    max_rows: int
    max_cell_chars: int
    max_row_chars: int
    max_unzipped_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_rows=settings.import_max_rows,
            max_cell_chars=settings.import_max_cell_chars,
            max_row_chars=settings.import_max_row_chars,
            max_unzipped_bytes=settings.import_max_unzipped_bytes,
        )


def _unreadable(path: Path, reason: str) -> UnreadableFile:
    return UnreadableFile(
        f"无法读取文件 {path.name}：{reason} / cannot read {path.name}: {reason}", field="file"
    )


@contextlib.contextmanager
def open_rows(path: Path, limits: Limits, *, library: str | None = None) -> Iterator[Iterator[Row]]:
    """The rows of a .jsonl, .csv or .xlsx file, read one at a time while the block runs.

    A CSV or XLSX header may name the library's columns in Chinese (headers.canonical).
    Raises UnreadableFile on entry when the file cannot be read at all.
    """
    suffix = file_format(path)
    if not path.is_file():
        raise UnreadableFile(f"文件不存在：{path} / file not found: {path}", field="file")
    with contextlib.ExitStack() as stack:
        try:
            if suffix == ".xlsx":
                rows = stack.enter_context(
                    xlsx.open_sheet(path, limits.max_rows, limits.max_unzipped_bytes)
                )
                cells = _checked(path, rows, limits, library)
            else:
                f = stack.enter_context(path.open("rb"))
                _sniff_utf8(f, path)
                if suffix == ".jsonl":
                    cells = _read_jsonl(f, limits)
                else:
                    cells = _read_csv(f, path, limits, library)
        except _READ_ERRORS as e:
            raise _unreadable(path, str(e)) from e
        yield _guarded(_capped(cells, limits.max_rows), path)


def check_file(path: Path, limits: Limits, *, library: str | None = None) -> None:
    """Raise UnreadableFile unless the file opens (header, sizes, declared rows within caps)."""
    with open_rows(path, limits, library=library):
        pass


def _guarded(rows: Iterator[Row], path: Path) -> Iterator[Row]:
    """The rows; a failure to read further (a broken zip or sheet) becomes UnreadableFile."""
    line = 1
    try:
        for row in rows:
            line = row.line
            yield row
    except _READ_ERRORS as e:
        raise _unreadable(path, f"第 {line} 行之后 / after row {line}: {e}") from e


def _sniff_utf8(f: IO[bytes], path: Path) -> None:
    start = f.read(SNIFF_BYTES)
    f.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(start, final=False)
    except UnicodeDecodeError as e:
        raise _unreadable(path, f"不是 UTF-8 编码 / not UTF-8 ({e.reason})") from e


def _capped(rows: Iterator[Row], max_rows: int) -> Iterator[Row]:
    for count, row in enumerate(rows, start=1):
        if count > max_rows:
            yield Row(
                row.line,
                None,
                f"超过 {max_rows} 行的上限，此行及以后未读取 / "
                f"more than {max_rows} rows: this row and the rest were not read",
            )
            return
        yield row


def _cell_too_long(limit: int) -> str:
    return f"单元格超过 {limit} 个字符 / cell longer than {limit} characters"


def _row_too_long(limit: int) -> str:
    return f"该行超过 {limit} 个字符，未读取 / row longer than {limit} characters, not read"


def _check_header(header: list[Any], path: Path, library: str | None) -> list[str]:
    given = [str(h).strip() if h is not None else "" for h in header]
    if len(given) > MAX_COLUMNS:
        raise _unreadable(path, f"列数超过 {MAX_COLUMNS} / more than {MAX_COLUMNS} columns")
    names = [headers.canonical(h, library) if h else "" for h in given]
    if "external_id" not in names:
        raise UnreadableFile(
            f"{path.name} 的表头缺少 external_id（外部编号）列 / "
            f"header of {path.name} has no external_id",
            field="file",
        )
    # Two headers meaning one field (title and 标题) would leave one of them unread.
    for name in {n for n in names if library and n and names.count(n) > 1}:
        both = "、".join(g for g, n in zip(given, names, strict=True) if n == name)
        raise _unreadable(path, f"多列都是 {name}（{both}） / several columns mean {name}")
    return names


def _cells_to_record(header: list[str], cells: list[Any], line: int, max_chars: int) -> Row:
    if len(cells) > len(header) and any(c not in (None, "") for c in cells[len(header) :]):
        return Row(line, None, "单元格多于表头列数 / more cells than header columns")
    data = {}
    for name, value in zip(header, cells, strict=False):
        if isinstance(value, str) and len(value) > max_chars:
            return Row(line, None, f"{name}: {_cell_too_long(max_chars)}")
        # An empty cell is an absent field, as if the column were not there.
        if name and value is not None and value != "":
            data[name] = value
    return Row(line, data)


def _checked(
    path: Path, rows: Iterator[tuple[int, list[Any]]], limits: Limits, library: str | None
) -> Iterator[Row]:
    """Rows of a sheet (XLSX) as records, after its header."""
    first = next(rows, None)
    if first is None:
        raise UnreadableFile(f"{path.name} 是空表 / {path.name} is empty", field="file")
    names = _check_header(first[1], path, library)
    return (_cells_to_record(names, cells, line, limits.max_cell_chars) for line, cells in rows)


def _lines(f: IO[bytes], max_chars: int) -> Iterator[tuple[int, str | None, str | None]]:
    """(number, text, None) for each line of f, or (number, None, reason) for a bad one."""
    number = 0
    while piece := f.readline(PIECE_BYTES):
        number += 1
        size, problem = 0, None
        parts: list[bytes] = []
        while True:
            size += len(piece)
            if size > max_chars * 4:  # UTF-8 takes at most 4 bytes a character
                problem, parts = _row_too_long(max_chars), []
            elif problem is None:
                parts.append(piece)
            if piece.endswith(b"\n"):
                break
            piece = f.readline(PIECE_BYTES)
            if not piece:
                break
        if problem is None:
            try:
                text = b"".join(parts).decode("utf-8")
            except UnicodeDecodeError:
                problem = "该行不是 UTF-8 编码 / the line is not UTF-8"
            else:
                if len(text) > max_chars:
                    problem = _row_too_long(max_chars)
        yield (number, None, problem) if problem else (number, text, None)


def _read_jsonl(f: IO[bytes], limits: Limits) -> Iterator[Row]:
    for number, line, problem in _lines(f, limits.max_row_chars):
        if line is None:
            yield Row(number, None, problem)
            continue
        line = line.removeprefix("\ufeff") if number == 1 else line
        if not line.strip():
            continue
        yield _json_row(number, line, limits.max_cell_chars)


def _json_row(number: int, line: str, max_chars: int) -> Row:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        return Row(number, None, f"JSON 格式错误 / malformed JSON: {e.msg}")
    if not isinstance(data, dict):
        return Row(number, None, "每行须是一个 JSON 对象 / each line must be a JSON object")
    for name, value in data.items():
        if isinstance(value, str) and len(value) > max_chars:
            return Row(number, None, f"{name}: {_cell_too_long(max_chars)}")
    return Row(number, data)


class _QuoteState:
    """Whether a CSV record goes on past the end of a line (inside a quoted cell)."""

    def __init__(self) -> None:
        self.new_record()

    def new_record(self) -> None:
        self.quoted = False
        self.field_start = True
        self.quote_pending = False  # a quote ended the last piece: closing, or doubled?

    def feed(self, text: str) -> None:
        pos = 0
        if self.quote_pending:
            self.quote_pending = False
            if text.startswith('"'):
                pos = 1
            else:
                self.quoted, self.field_start = False, False
        while pos < len(text):
            pos = self._in_quotes(text, pos) if self.quoted else self._outside(text, pos)

    def _in_quotes(self, text: str, pos: int) -> int:
        q = text.find('"', pos)
        if q < 0:
            return len(text)
        if q + 1 == len(text):
            self.quote_pending = True
            return len(text)
        if text[q + 1] == '"':  # a doubled quote is a quote inside the cell
            return q + 2
        self.quoted, self.field_start = False, False
        return q + 1

    def _outside(self, text: str, pos: int) -> int:
        stops = [i for i in (text.find('"', pos), text.find(",", pos)) if i >= 0]
        stop = min(stops) if stops else len(text)
        if stop > pos:
            self.field_start = False
        if stop == len(text):
            return stop
        if text[stop] == ",":
            self.field_start = True
        elif self.field_start:  # a quote opens a cell only at its start; elsewhere it is text
            self.quoted = True
        return stop + 1

    def finished(self) -> bool:
        """At the end of a line: whether the record is complete."""
        if self.quote_pending:
            self.quoted, self.quote_pending = False, False
        return not self.quoted


def _csv_records(f: IO[bytes], max_chars: int) -> Iterator[tuple[str | None, str | None]]:
    """Each CSV record's text, or (None, reason) for one that cannot be kept."""
    state = _QuoteState()
    parts: list[bytes] = []
    size, problem = 0, None
    while piece := f.readline(PIECE_BYTES):
        state.feed(piece.decode("utf-8", "replace"))
        size += len(piece)
        if size > max_chars * 4:
            problem, parts = problem or _row_too_long(max_chars), []
        elif problem is None:
            parts.append(piece)
        if piece.endswith(b"\n") and state.finished():
            yield _record_text(parts, problem, max_chars)
            state.new_record()
            parts, size, problem = [], 0, None
    if size:
        if not state.finished():
            problem = (
                "引号未闭合：此行及以后的内容成了一个单元格，未导入 / "
                "unclosed quote: this row and everything after it became one cell, not imported"
            )
        yield _record_text(parts, problem, max_chars)


def _record_text(
    parts: list[bytes], problem: str | None, max_chars: int
) -> tuple[str | None, str | None]:
    if problem is not None:
        return None, problem
    try:
        text = b"".join(parts).decode("utf-8")
    except UnicodeDecodeError:
        return None, "该行不是 UTF-8 编码 / the row is not UTF-8"
    if len(text) > max_chars:
        return None, _row_too_long(max_chars)
    return text, None


def _parse_record(text: str) -> list[str]:
    """The cells of one CSV record, as the csv module reads them (raises csv.Error)."""
    return next(csv.reader([text], strict=True), [])


def _read_csv(f: IO[bytes], path: Path, limits: Limits, library: str | None) -> Iterator[Row]:
    records = _csv_records(f, limits.max_row_chars)
    first = next(records, None)
    if first is None:
        raise UnreadableFile(f"{path.name} 是空文件 / {path.name} is empty", field="file")
    text, problem = first
    if text is None:
        raise _unreadable(path, f"表头 / header: {problem}")
    try:
        names = _check_header(_parse_record(text.removeprefix("\ufeff")), path, library)
    except csv.Error as e:
        raise _unreadable(path, f"表头 / header: {e}") from e
    return _csv_rows(records, names, limits)


def _csv_rows(
    records: Iterator[tuple[str | None, str | None]], names: list[str], limits: Limits
) -> Iterator[Row]:
    for number, (text, problem) in enumerate(records, start=2):
        if text is None:
            yield Row(number, None, problem)
            continue
        try:
            cells = _parse_record(text)
        except csv.Error as e:
            yield Row(number, None, f"CSV 格式错误 / malformed CSV: {e}")
            continue
        cells = [unescape_csv_cell(c) for c in cells]
        if any(c.strip() for c in cells):
            yield _cells_to_record(names, cells, number, limits.max_cell_chars)
