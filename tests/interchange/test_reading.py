"""Reading files row by row: a bad row is reported alone, caps hold, memory stays bounded."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from greenplat.core.interchange.formats import UnreadableFile, write_csv
from greenplat.core.interchange.reading import PIECE_BYTES, Limits, check_file, open_rows

LIMITS = Limits(
    max_rows=1000, max_cell_chars=131_072, max_row_chars=1 << 20, max_unzipped_bytes=64 << 20
)
HEADER = "external_id,title,description\n"
TRICKY = ['"', '""', 'a"b', '"a', "'", "'=1", "''", "=1", "-", "\r\n", "\n", "a,b", "\t"]


def read(path: Path, limits: Limits = LIMITS) -> list:
    with open_rows(path, limits) as rows:
        return list(rows)


def test_a_csv_cell_over_128_kb_rejects_its_row_alone(tmp_path):
    path = tmp_path / "big.csv"
    huge = "长" * 140_000  # 420 KB of UTF-8, over the 131072-character cell cap
    path.write_text(HEADER + f'P-1,好,"第一行"\nP-2,大,"{huge}\n跨行"\nP-3,好,第三行\n', "utf-8")
    rows = read(path)
    assert [(r.line, r.error is None) for r in rows] == [(2, True), (3, False), (4, True)]
    assert "131072" in rows[1].error
    assert rows[2].data == {"external_id": "P-3", "title": "好", "description": "第三行"}


def test_an_unclosed_quote_keeps_the_rows_before_it_and_says_what_was_lost(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + 'P-1,好,描述\nP-2,"未闭合,描述\nP-3,好,描述\n', "utf-8")
    rows = read(path)
    assert rows[0].data["external_id"] == "P-1"
    assert rows[1].line == 3 and rows[1].data is None
    assert "unclosed quote" in rows[1].error and "everything after it" in rows[1].error
    assert len(rows) == 2


def test_a_doubled_quote_split_between_two_reads_stays_one_quote(tmp_path):
    # Lines are read 64 KiB at a time: put a doubled quote right across that boundary.
    start = 'P-1,t,"'
    text = "a" * (PIECE_BYTES - 1 - len(start)) + '""' + "b" * 100
    path = tmp_path / "boundary.csv"
    path.write_text(HEADER + f'{start}{text}"\nP-2,好,描述\n', "utf-8")
    rows = read(path)
    assert rows[0].data["description"] == text.replace('""', '"')
    assert rows[1].data == {"external_id": "P-2", "title": "好", "description": "描述"}


def test_a_stray_quote_inside_a_cell_is_text(tmp_path):
    path = tmp_path / "inch.csv"
    path.write_text(HEADER + 'P-1,5" 管道,描述\nP-2,好,描述\n', "utf-8")
    assert [r.data["title"] for r in read(path)] == ['5" 管道', "好"]


def test_a_line_that_is_not_utf8_is_rejected_alone(tmp_path):
    path = tmp_path / "mixed.csv"
    good = (HEADER + "P-1,好,描述\n").encode() + b"x" * 70_000 + b",t,d\n"
    path.write_bytes(good + b"P-2,J\xfcrgen,d\nP-3,ok,d\n")
    rows = read(path)
    assert [r.line for r in rows if r.error] == [4]
    assert "UTF-8" in rows[2].error and rows[3].data["external_id"] == "P-3"


def test_a_jsonl_line_over_the_row_cap_is_rejected_alone(tmp_path):
    path = tmp_path / "long.jsonl"
    lines = [
        json.dumps({"external_id": "P-1", "title": "t", "description": "d"}),
        json.dumps({"external_id": "P-2", "title": "t", "description": "x" * 2_000_000}),
        json.dumps({"external_id": "P-3", "title": "t", "description": "d"}),
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    rows = read(path)
    assert [(r.line, r.error is None) for r in rows] == [(1, True), (2, False), (3, True)]
    assert "1048576" in rows[1].error


def test_rows_past_the_cap_are_reported_once_and_not_read(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(f"P-{i},t,d\n" for i in range(10)), "utf-8")
    rows = read(path, Limits(3, 131_072, 1 << 20, 64 << 20))
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert rows[-1].data is None and "more than 3 rows" in rows[-1].error


NAMES = ("external_id", "title", "description")
CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=st.lists(st.lists(CELL | st.sampled_from(TRICKY), min_size=3, max_size=3)))
def test_any_table_written_as_csv_reads_back_exactly(tmp_path, table):
    out = io.StringIO()
    write_csv(out, [list(NAMES), *table])
    path = tmp_path / "any.csv"
    path.write_text(out.getvalue(), "utf-8")
    expected = [
        {k: v for k, v in zip(NAMES, cells, strict=True) if v}
        for cells in table
        if any(c.strip() for c in cells)
    ]
    assert [r.data for r in read(path)] == expected


def test_reading_a_large_csv_keeps_memory_bounded(tmp_path):
    path = tmp_path / "large.csv"
    row = "P-{i},钢渣资源化利用,{text}\n"
    text = "每年二十万吨钢渣寻求高值化利用路线" * 20
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for i in range(40_000):
            f.write(row.format(i=i, text=text))
    assert path.stat().st_size > 40 * 1024 * 1024
    tracemalloc.start()
    try:
        with open_rows(path, Limits(100_000, 131_072, 1 << 20, 64 << 20)) as rows:
            count = sum(1 for _ in rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB reading a 40 MB file"


def _xlsx(path: Path, rows: int) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("r")
    sheet.append(["external_id", "title", "description"])
    for i in range(rows):
        sheet.append([f"P-{i}", "t", "d"])
    book.save(path)
    return path


def test_an_xlsx_declaring_more_than_the_unzipped_cap_is_refused(tmp_path):
    path = _xlsx(tmp_path / "a.xlsx", 2000)
    with pytest.raises(UnreadableFile, match="unzipped"):
        check_file(path, Limits(100_000, 131_072, 1 << 20, 64 * 1024))


def test_an_entry_inflating_over_a_hundred_times_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(_xlsx(tmp_path / "base.xlsx", 1)) as base:
        entries = {i.filename: base.read(i) for i in base.infolist()}
    entries["xl/media/zeros.bin"] = b"\0" * (8 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name, data in entries.items():
            bomb.writestr(name, data)
    with pytest.raises(UnreadableFile, match="zip bomb"):
        check_file(path, LIMITS)


def test_an_xlsx_with_more_rows_than_the_cap_is_refused_before_reading(tmp_path):
    path = _xlsx(tmp_path / "rows.xlsx", 50)
    with pytest.raises(UnreadableFile, match="limit of 20"):
        check_file(path, Limits(20, 131_072, 1 << 20, 64 << 20))
    assert len(read(path, Limits(50, 131_072, 1 << 20, 64 << 20))) == 50
