"""Chinese column headers read as the contract's names, and the sheets around an import:
the templates and the report of rejected rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from greenplat.core.errors import InvalidInput
from greenplat.core.interchange import reports
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import UnreadableFile
from greenplat.core.interchange.headers import COLUMNS, canonical
from greenplat.core.interchange.models import RejectedRow
from greenplat.core.interchange.reading import Limits
from greenplat.core.messages import in_language
from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings

LIMITS = Limits.of(Settings())


@pytest.fixture
def empty(conn):
    """The test's transaction with the libraries emptied (rolled back afterwards)."""
    for table in ("problems", "achievements", "experts"):
        conn.execute(f"DELETE FROM {table}")
    return conn


@pytest.mark.parametrize(
    ("library", "header", "name"),
    [
        ("achievements", "标题", "title"),
        ("achievements", "摘要", "abstract"),
        ("achievements", "外部编号", "external_id"),
        ("achievements", "学科", "discipline"),
        ("experts", "学科", "disciplines"),
        ("experts", "职称", "title"),
        ("problems", "预算（万元）", "budget_wan"),
        ("problems", "Budget (10k CNY)", "budget_wan"),
        ("problems", " External id ", "external_id"),
        ("problems", "TITLE", "title"),
        ("problems", "联系人", "联系人"),  # not a contract column: kept as an extra field
    ],
)
def test_headers_map_to_the_contract_names(library, header, name):
    assert canonical(header.strip(), library) == name


def test_every_contract_column_has_a_chinese_label():
    for library, columns in COLUMNS.items():
        assert [c.name for c in columns][0] == "external_id"
        assert all(c.zh and c.en for c in columns), library


def test_csv_and_xlsx_with_chinese_headers_import(empty, tmp_path: Path):
    csv_path = tmp_path / "成果.csv"
    csv_path.write_text(
        "\ufeff外部编号,标题,摘要,关键词,类型,年份,专家编号\n"
        "A-ZH-1,钙钛矿叠层电池,效率 30%,光伏;钙钛矿,patent,2024,E-1;E-2\n",
        "utf-8",
    )
    book = Workbook()
    book.active.append(["外部编号", "姓名", "职称", "学科", "简介", "容量"])
    book.active.append(["E-ZH-1", "赵专家", "研究员", "化学;材料", "做电池。", 2])
    xlsx_path = tmp_path / "专家.xlsx"
    book.save(xlsx_path)
    for library, path in (("achievements", csv_path), ("experts", xlsx_path)):
        report = interchange.import_file(
            conn=empty, principal=SYSTEM, library=library, path=path, limits=LIMITS
        )
        assert (report.created, report.rejected) == (1, []), library
    work = next(interchange.iter_library(conn=empty, library="achievements"))
    assert (work["title"], work["kind"], work["year"], work["expert_ids"]) == (
        "钙钛矿叠层电池", "patent", 2024, ["E-1", "E-2"]
    )  # fmt: skip
    expert = next(interchange.iter_library(conn=empty, library="experts"))
    assert (expert["name"], expert["title"], expert["capacity"]) == ("赵专家", "研究员", 2)


def test_two_headers_for_one_field_are_refused_naming_both(empty, tmp_path: Path):
    path = tmp_path / "twice.csv"
    path.write_text("external_id,title,标题,abstract\nA-1,a,b,c\n", "utf-8")
    with pytest.raises(UnreadableFile) as caught:
        interchange.import_file(
            conn=empty, principal=SYSTEM, library="achievements", path=path, limits=LIMITS
        )
    assert "title、标题" in caught.value.message and caught.value.field == "file"


def test_rejected_rows_keep_their_field_and_values(empty, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("外部编号,标题,摘要,年份\nA-B-1,好,摘要,2020\nA-B-2,坏,,1200\n", "utf-8")
    report = interchange.import_file(
        conn=empty, principal=SYSTEM, library="achievements", path=path, limits=LIMITS
    )
    [bad] = report.rejected
    assert (bad.line, bad.field) == (3, "abstract")
    assert bad.original == {"external_id": "A-B-2", "title": "坏", "year": "1200"}


def test_reasons_in_the_readers_language():
    reason = "title: 必填 / required; year: 不能小于 1900 / must be at least 1900"
    assert in_language(reason, "zh-CN") == "title: 必填; year: 不能小于 1900"
    assert in_language(reason, "en") == "title: required; year: must be at least 1900"
    assert in_language("no translation here", "en") == "no translation here"


def test_the_report_sheet_labels_fields_and_keeps_values():
    rows = [
        RejectedRow(
            line=4, reason="year: 不能小于 1900 / must be at least 1900", field="year",
            original={"external_id": "A-1", "year": 1200, "来源": "手填"},
        ),
        RejectedRow(line=9, reason="该行不是 UTF-8 编码 / the row is not UTF-8"),
    ]  # fmt: skip
    sheet = reports.report_sheet("achievements", rows, "zh-CN")
    assert sheet.header[:4] == ["行号", "字段", "原因", "external_id"]
    assert sheet.header[-1] == "来源"
    first = dict(zip(sheet.header, sheet.rows[0], strict=True))
    assert (first["字段"], first["原因"], first["year"], first["来源"]) == (
        "年份", "year: 不能小于 1900", 1200, "手填"
    )  # fmt: skip
    english = reports.report_sheet("achievements", rows, "en")
    assert english.rows[1][:3] == [9, "", "the row is not UTF-8"]


def test_templates_hold_the_contract_columns_and_a_guide():
    sheets = reports.template_sheets("problems", "en")
    assert sheets[0].header == [c.name for c in COLUMNS["problems"]] and sheets[0].rows == []
    guide = {row[0]: row for row in sheets[1].rows}
    assert guide["title"][1:3] == ["标题", "yes"] and guide["industry"][2] == ""
    with pytest.raises(InvalidInput, match="library"):
        reports.template_sheets("people", "en")
