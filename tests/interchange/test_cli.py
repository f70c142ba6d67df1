"""`greenplat import` and `greenplat export` as a user runs them, on a fresh --data-dir."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from greenplat.core.interchange.reading import Limits, open_rows
from greenplat.core.settings import Settings

GREENPLAT = Path(sys.executable).parent / "greenplat"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GREENPLAT), *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_import_then_export_through_the_command(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    for folder in (work, *work.parents):
        if str(folder).startswith("/tmp/"):
            folder.chmod(folder.stat().st_mode | 0o755)
    data_dir = work / "data"
    source = work / "problems.jsonl"
    rows = [
        {
            "external_id": "P-CLI-1",
            "title": "废旧锂电池回收",
            "description": "湿法冶金回收镍钴锰。",
        },
        {"external_id": "P-CLI-2", "title": "Hydrogen storage", "description": "Solid-state."},
        {"external_id": "P-CLI-3", "title": "缺描述"},
    ]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")

    imported = run("import", "problems", str(source), "--data-dir", str(data_dir))
    assert imported.returncode == 0, imported.stderr
    assert "created 2" in imported.stdout and "rejected 1" in imported.stdout
    assert "line 3: description" in imported.stdout
    # "When the command returns, the imported records are searchable."
    found = run(
        "index", "search", "problems", "锂电池", "--mode", "lexical", "--data-dir", str(data_dir)
    )
    assert found.returncode == 0, found.stderr
    assert "P-CLI-1" in found.stdout

    out = work / "problems.xlsx"
    exported = run("export", "problems", "--out", str(out), "--data-dir", str(data_dir))
    assert exported.returncode == 0, exported.stderr
    with open_rows(out, Limits.of(Settings())) as rows:
        back = list(rows)
    assert sorted(r.data["external_id"] for r in back) == ["P-CLI-1", "P-CLI-2"]
    assert {r.data["status"] for r in back} == {"approved"}


def test_unreadable_files_exit_non_zero_with_a_message(tmp_path):
    missing = run("import", "experts", str(tmp_path / "none.csv"), "--data-dir", str(tmp_path))
    assert missing.returncode != 0 and "none.csv" in missing.stderr
    (tmp_path / "x.pdf").write_text("x")
    wrong = run("import", "experts", str(tmp_path / "x.pdf"), "--data-dir", str(tmp_path))
    assert wrong.returncode != 0 and ".pdf" in wrong.stderr
    library = run("export", "patents", "--out", str(tmp_path / "o.jsonl"))
    assert library.returncode != 0 and "patents" in library.stderr


def test_greenplat_export_xlsx_holds_formula_like_titles_as_text_and_gives_them_back(
    tmp_path_factory,
):
    work = tmp_path_factory.mktemp("cli-formula")
    for folder in (work, *work.parents):
        if str(folder).startswith("/tmp/"):
            folder.chmod(folder.stat().st_mode | 0o755)
    titles = {"P-F-1": '=HYPERLINK("http://evil.example","点此查看")', "P-F-2": "'=引号开头"}
    source = work / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"external_id": k, "title": v, "description": "d"}, ensure_ascii=False)
            + "\n"
            for k, v in titles.items()
        ),
        "utf-8",
    )
    first = work / "first"
    assert run("import", "problems", str(source), "--data-dir", str(first)).returncode == 0
    # CSV and JSONL round trips run in-process (test_formulas.py); here the command, XLSX.
    out = work / "out.xlsx"
    exported = run("export", "problems", "--out", str(out), "--data-dir", str(first))
    assert exported.returncode == 0, exported.stderr
    again = work / "again"
    imported = run("import", "problems", str(out), "--data-dir", str(again))
    assert imported.returncode == 0 and "rejected 0" in imported.stdout, imported.stdout
    back = work / "back.jsonl"
    written = run("export", "problems", "--out", str(back), "--data-dir", str(again))
    assert written.returncode == 0, written.stderr
    rows = [json.loads(line) for line in back.read_text("utf-8").splitlines()]
    assert {r["external_id"]: r["title"] for r in rows} == titles
    cell = load_workbook(work / "out.xlsx").worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value == titles["P-F-1"]
