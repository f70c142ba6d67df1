"""Exports never hand a spreadsheet a formula, and the round trip keeps such titles exactly."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row, escape_csv_cell, unescape_csv_cell
from greenplat.core.interchange.reading import Limits
from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings

LIMITS = Limits.of(Settings())
HYPERLINK = '=HYPERLINK("http://evil.example/x","点此查看")'
TITLES = [
    HYPERLINK,
    "+1 钢渣",
    "-2 号炉",
    "@SUM(A1:A9)",
    "\tTab 开头",
    "'=已经带引号",
    "''两个引号",
    "'普通引号开头",
    "'",
    "普通标题",
]


@pytest.fixture
def titled(conn):
    conn.execute("DELETE FROM problems")
    rows = [
        Row(n, {"external_id": f"P-F{n}", "title": title, "description": "描述"})
        for n, title in enumerate(TITLES, start=1)
    ]
    report = interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    assert report.rejected == [] and report.created == len(TITLES)
    return conn


def _titles(conn) -> dict[str, str]:
    rows = conn.execute("SELECT external_id, title FROM problems").fetchall()
    return {r["external_id"]: r["title"] for r in rows}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
def test_a_round_trip_keeps_formula_like_titles_exactly(titled, tmp_path, suffix):
    before = _titles(titled)
    out = tmp_path / f"problems{suffix}"
    interchange.export_file(conn=titled, principal=SYSTEM, library="problems", path=out)
    titled.execute("DELETE FROM problems")
    report = interchange.import_file(
        conn=titled, principal=SYSTEM, library="problems", path=out, limits=LIMITS
    )
    assert report.rejected == [] and report.created == len(TITLES)
    assert _titles(titled) == before


def test_the_xlsx_export_holds_text_not_formulas(titled, tmp_path):
    out = tmp_path / "problems.xlsx"
    interchange.export_file(conn=titled, principal=SYSTEM, library="problems", path=out)
    sheet = load_workbook(out).worksheets[0]
    titles = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    cell = titles["P-F1"]
    assert cell.data_type == "s" and cell.value == HYPERLINK
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert cell.quotePrefix


def test_the_csv_export_escapes_formula_like_text(titled, tmp_path):
    out = tmp_path / "problems.csv"
    interchange.export_file(conn=titled, principal=SYSTEM, library="problems", path=out)
    text = out.read_text("utf-8")
    assert "'=HYPERLINK(" in text and ",=HYPERLINK(" not in text
    assert ",'+1 钢渣," in text and ",'@SUM" in text


@pytest.mark.parametrize("title", [*TITLES, "", "=", "''", "'''=x", "-5"])
def test_unescaping_undoes_exactly_what_escaping_added(title):
    assert unescape_csv_cell(escape_csv_cell(title)) == title
    escaped = escape_csv_cell(title)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
