"""Import and export in JSONL, CSV and XLSX: round trips, bad rows, broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from greenplat.core.interchange import formats
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import UnreadableFile
from greenplat.core.interchange.reading import Limits, check_file
from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings

LIMITS = Limits.of(Settings())

PROBLEMS = [
    {
        "external_id": "P-RT-1",
        "title": "钢渣资源化利用",
        "description": '每年 20 万吨钢渣，寻求高值化利用路线；含 "引号", 逗号；分号',
        "keywords": ["钢渣", "固废", "建材"],
        "industry": "冶金",
        "region": "江苏省",
        "organization": "某钢铁集团",
        "budget_wan": 120.5,
        "deadline": "2026-12-31",
        "status": "submitted",
        "confidential": True,
        "contact": "张经理",
    },
    {
        "external_id": "P-RT-2",
        "title": "Low-NOx burner retrofit",
        "description": "Multi-line\ndescription in English.",
        "status": "approved",
    },
]
ACHIEVEMENTS = [
    {
        "external_id": "A-RT-1",
        "title": "高效钙钛矿光伏组件",
        "abstract": "转换效率 25%，寿命 20 年。",
        "keywords": ["光伏", "钙钛矿"],
        "kind": "patent",
        "discipline": "材料科学",
        "year": 2023,
        "organization": "某大学",
        "expert_ids": ["E-RT-1", "E-RT-2"],
        "patent_no": "CN123456",
    }
]
EXPERTS = [
    {
        "external_id": "E-RT-1",
        "name": "陈教授",
        "organization": "某大学",
        "title": "教授",
        "disciplines": ["材料科学", "化学工程"],
        "keywords": ["光伏"],
        "bio": "长期从事新能源材料研究。",
        "region": "浙江省",
        "capacity": 3,
        "email": "chen@example.edu.cn",
    },
    {"external_id": "E-RT-2", "name": "Dr. Li"},
]
DATA = {"problems": PROBLEMS, "achievements": ACHIEVEMENTS, "experts": EXPERTS}


@pytest.fixture
def empty(conn):
    """The test's transaction with all three libraries emptied (rolled back afterwards)."""
    conn.execute("DELETE FROM problems")
    conn.execute("DELETE FROM achievements")
    conn.execute("DELETE FROM experts")
    return conn


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def snapshot(conn, library):
    return sorted(
        interchange.iter_library(conn=conn, library=library), key=lambda r: r["external_id"]
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".xlsx"])
@pytest.mark.parametrize("library", ["problems", "achievements", "experts"])
def test_import_export_import_gives_identical_records(empty, tmp_path, library, suffix):
    source = write_jsonl(tmp_path / "in.jsonl", DATA[library])
    first = interchange.import_file(
        conn=empty, principal=SYSTEM, library=library, path=source, limits=LIMITS
    )
    assert (first.created, first.updated, first.rejected) == (len(DATA[library]), 0, [])
    before = snapshot(empty, library)
    out = tmp_path / f"out{suffix}"
    count = interchange.export_file(conn=empty, principal=SYSTEM, library=library, path=out)
    assert count == len(DATA[library])
    empty.execute(f"DELETE FROM {library}")
    again = interchange.import_file(
        conn=empty, principal=SYSTEM, library=library, path=out, limits=LIMITS
    )
    assert again.rejected == [] and again.created == len(DATA[library])
    assert snapshot(empty, library) == before
    # Re-importing the same file changes nothing and creates no duplicates.
    third = interchange.import_file(
        conn=empty, principal=SYSTEM, library=library, path=out, limits=LIMITS
    )
    assert (third.created, third.updated) == (0, len(DATA[library]))
    assert snapshot(empty, library) == before


def test_round_trip_keeps_every_field(empty, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", PROBLEMS)
    interchange.import_file(
        conn=empty, principal=SYSTEM, library="problems", path=source, limits=LIMITS
    )
    out = tmp_path / "p.csv"
    interchange.export_file(conn=empty, principal=SYSTEM, library="problems", path=out)
    empty.execute("DELETE FROM problems")
    interchange.import_file(
        conn=empty, principal=SYSTEM, library="problems", path=out, limits=LIMITS
    )
    back = tmp_path / "back.jsonl"
    interchange.export_file(conn=empty, principal=SYSTEM, library="problems", path=back)
    rows = {r["external_id"]: r for r in map(json.loads, back.read_text("utf-8").splitlines())}
    assert rows["P-RT-1"] == PROBLEMS[0]
    assert rows["P-RT-2"]["description"] == PROBLEMS[1]["description"]
    assert rows["P-RT-2"]["confidential"] is False and rows["P-RT-2"]["keywords"] == []


def test_bad_rows_are_reported_and_good_rows_kept(empty, tmp_path):
    lines = [
        json.dumps({"external_id": "P-OK-1", "title": "好", "description": "好的"}),
        "{not json",
        json.dumps({"external_id": "P-BAD-1", "title": "缺描述"}),
        json.dumps({"external_id": "P-BAD-2", "title": "t", "description": "d", "status": "done"}),
        "",
        json.dumps({"external_id": "P-OK-1", "title": "重复", "description": "d"}),
        json.dumps(
            {"external_id": "P-BAD-3", "title": "t", "description": "d", "deadline": "31/12"}
        ),
        json.dumps({"external_id": "P-BAD-4", "title": "x" * 301, "description": "d"}),
        json.dumps(
            {"external_id": "P-BAD-5", "title": "t", "description": "d", "budget_wan": "多"}
        ),
        json.dumps(["not", "an", "object"]),
        json.dumps({"external_id": "P-OK-2", "title": "好2", "description": "好的2"}),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    report = interchange.import_file(
        conn=empty, principal=SYSTEM, library="problems", path=path, limits=LIMITS
    )
    assert (report.created, report.updated) == (2, 0)
    reasons = {r.line: r.reason for r in report.rejected}
    assert sorted(reasons) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert "description" in reasons[3]
    assert "status" in reasons[4]
    assert "line 1" in reasons[6]
    assert "deadline" in reasons[7]
    assert "title" in reasons[8]
    assert "budget_wan" in reasons[9]
    stored = {r["external_id"]: r for r in snapshot(empty, "problems")}
    assert set(stored) == {"P-OK-1", "P-OK-2"}
    assert stored["P-OK-1"]["title"] == "好"  # the later duplicate did not overwrite it


def test_csv_rows_are_numbered_with_the_header_as_row_one(empty, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "external_id,name,capacity,disciplines\n"
        "E-C-1,张三,2,材料;化学\n"
        "E-C-2,李四,很多,\n"
        ",王五,1,\n"
        "E-C-3,,1,\n",
        "utf-8",
    )
    report = interchange.import_file(
        conn=empty, principal=SYSTEM, library="experts", path=path, limits=LIMITS
    )
    assert report.created == 1
    assert [r.line for r in report.rejected] == [3, 4, 5]
    assert "capacity" in report.rejected[0].reason
    stored = snapshot(empty, "experts")
    assert stored[0]["disciplines"] == ["材料科学与工程", "化学"]  # 材料 is an alias


def test_xlsx_cells_of_any_type_are_read(empty, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "title", "abstract", "year", "expert_ids"])
    sheet.append([1001, "数字编号", "摘要", 2020.0, "E-1;E-2"])
    sheet.append(["A-X-2", "年份错误", "摘要", "二〇二〇", None])
    path = tmp_path / "a.xlsx"
    workbook.save(path)
    report = interchange.import_file(
        conn=empty, principal=SYSTEM, library="achievements", path=path, limits=LIMITS
    )
    assert report.created == 1 and [r.line for r in report.rejected] == [3]
    stored = snapshot(empty, "achievements")[0]
    assert (stored["external_id"], stored["year"], stored["expert_ids"]) == (
        "1001",
        2020,
        ["E-1", "E-2"],
    )


def test_a_row_failing_in_the_database_leaves_nothing_half_written(empty, tmp_path, monkeypatch):
    rows = [
        formats.Row(1, {"external_id": "E-DB-1", "name": "甲"}),
        formats.Row(2, {"external_id": "E-DB-2", "name": "乙", "capacity": 5}),
    ]
    # capacity passes the schema (<= 1000) but break the table's rule for this one row.
    empty.execute(
        "ALTER TABLE experts ADD CONSTRAINT test_no_five CHECK (capacity IS DISTINCT FROM 5)"
    )
    report = interchange.import_rows(conn=empty, principal=SYSTEM, library="experts", rows=rows)
    assert report.created == 1 and [r.line for r in report.rejected] == [2]
    assert [r["external_id"] for r in snapshot(empty, "experts")] == ["E-DB-1"]
    outbox = empty.execute(
        "SELECT count(*) AS n FROM outbox o WHERE library='experts' "
        "AND NOT EXISTS (SELECT 1 FROM experts e WHERE e.id = o.record_id) AND o.op = 'upsert'"
        " AND o.created_at = now()"
    ).fetchone()["n"]
    assert outbox == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.jsonl", None),
        ("data.txt", b"external_id\n"),
        ("broken.xlsx", b"this is not a zip file"),
        ("latin1.csv", "external_id,name\nE-1,J\xfcrgen\n".encode("latin-1")),
        ("noheader.csv", b"id,name\n1,x\n"),
        ("empty.csv", b""),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_stored(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFile) as caught:
        check_file(path, LIMITS)
    assert caught.value.message


def test_unknown_library_is_refused(conn, tmp_path):
    with pytest.raises(interchange.InvalidInput):
        interchange.import_rows(conn=conn, principal=SYSTEM, library="patents", rows=[])
