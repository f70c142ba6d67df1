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
    titles = [row[1] for row in csv.reader(io.StringIO(text))]
    assert "'" + title in titles and title not in titles
    book = load_workbook(io.BytesIO(client.get("/stats/export.xlsx", params=params).content))
    [cell] = [row[1] for row in book["records"].iter_rows(min_row=2) if row[1].value == title]
    assert cell.data_type == "s" and cell.quotePrefix
