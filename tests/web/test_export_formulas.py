"""The statistics exports hand spreadsheets text, never a formula from a title."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook


def test_stats_exports_write_formula_like_titles_as_text(browser_as, db, world, build):
    title = f'=HYPERLINK("http://evil.example/{build.uid()}","点此查看")'
    with db.session() as conn:
        build.problem(conn, region=world.region_b, title=title)
    client = browser_as("platform_admin")
    params = {"region": world.region_b}
    text = client.get("/stats/export.csv", params=params).content.decode("utf-8-sig")
    titles = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + title in titles and title not in titles
    book = load_workbook(io.BytesIO(client.get("/stats/export.xlsx", params=params).content))
    records = book.worksheets[0]
    [cell] = [c for row in records.iter_rows(min_row=2) for c in row if c.value == title]
    assert cell.data_type == "s" and cell.quotePrefix
