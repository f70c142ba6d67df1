"""Imports through the API: a job with progress and a paged report, checked like every path."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from openpyxl import Workbook


def wait_for(client, headers, job_id: int, timeout: float = 60) -> dict:
    """The job once it has finished (polled like the portal page does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/imports/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"import job {job_id} did not finish: {job}")


def upload(client, headers, library: str, name: str, body: bytes):
    return client.post(
        "/v1/imports",
        headers=headers,
        data={"library": library},
        files={"file": (name, body, "application/octet-stream")},
    )


def test_an_import_is_a_job_with_progress_and_a_paged_report(client, tokens, world, build):
    tag = build.uid()
    lines = ["external_id,name,region"]
    for i in range(120):
        # Every other row lacks its name and is rejected.
        lines.append(f"E-J{tag}-{i},{'专家' if i % 2 else ''},{world.region_a}")
    body = ("\n".join(lines) + "\n").encode()
    started = upload(client, tokens["subcenter_admin"], "experts", "experts.csv", body)
    assert started.status_code == 202, started.text
    job = wait_for(client, tokens["subcenter_admin"], started.json()["id"])
    assert job["status"] == "done"
    assert (job["rows_read"], job["created"], job["rejected"]) == (120, 60, 60)
    url = f"/v1/imports/{job['id']}/rejections"
    first = client.get(url, headers=tokens["subcenter_admin"], params={"page_size": 50}).json()
    second = client.get(
        url, headers=tokens["subcenter_admin"], params={"page_size": 50, "page": 2}
    ).json()
    assert first["total"] == 60 and len(first["items"]) == 50 and len(second["items"]) == 10
    assert first["items"][0]["line"] == 2 and "name" in first["items"][0]["reason"]
    # Another sub-center learns nothing of the job; an enterprise may not import at all.
    assert client.get(f"/v1/imports/{job['id']}", headers=tokens["subcenter_b"]).status_code == 404
    refused = upload(client, tokens["enterprise"], "experts", "experts.csv", body)
    assert refused.status_code == 403


def test_an_api_import_cannot_overwrite_another_regions_problem(client, tokens, db, world, build):
    with db.session() as conn:
        theirs = build.problem(conn, region=world.region_b, status="submitted", title="乙省需求")
    row = {
        "external_id": theirs["external_id"],
        "title": "改名",
        "description": "改写",
        "region": world.region_a,
        "status": "approved",
    }
    body = json.dumps(row, ensure_ascii=False).encode() + b"\n"
    started = upload(client, tokens["subcenter_admin"], "problems", "p.jsonl", body)
    job = wait_for(client, tokens["subcenter_admin"], started.json()["id"])
    assert (job["created"], job["updated"], job["rejected"]) == (0, 0, 1)
    report = client.get(
        f"/v1/imports/{job['id']}/rejections", headers=tokens["subcenter_admin"]
    ).json()
    assert report["items"][0]["line"] == 1 and theirs["external_id"] in report["items"][0]["reason"]
    seen = client.get(f"/v1/problems/{theirs['id']}", headers=tokens["subcenter_b"])
    assert seen.status_code == 200 and seen.json()["title"] == "乙省需求"
    assert seen.json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("library", "name", "body", "field"),
    [
        ("patents", "x.jsonl", b"{}\n", "library"),
        ("experts", "x.pdf", b"%PDF", "file"),
        ("experts", "x.xlsx", b"not a zip", "file"),
        ("experts", "x.csv", b"id,name\n1,x\n", "file"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_at_once(client, tokens, library, name, body, field):
    response = upload(client, tokens["platform_admin"], library, name, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["fields"][0]["field"] == field and " / " in error["message"]


def _xlsx_broken_after_the_header(declare_size: bool) -> bytes:
    """An XLSX whose sheet XML breaks after its header row (with or without <dimension>)."""
    book = Workbook(write_only=True)
    book.create_sheet("r").append(["external_id", "name"])
    plain = io.BytesIO()
    book.save(plain)
    broken = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(broken, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                if declare_size:
                    data = data.replace(b"<sheetData>", b'<dimension ref="A1:B3"/><sheetData>')
                data = data.replace(b"</sheetData>", b'<row r="2"><c r="A2"></sheetData>')
            out.writestr(info.filename, data)
    return broken.getvalue()


def test_a_sheet_broken_inside_is_refused_or_its_job_fails_with_the_reason(client, tokens):
    headers = tokens["platform_admin"]
    # Without a declared size, opening the workbook reads the whole sheet: refused at once.
    refused = upload(client, headers, "experts", "b.xlsx", _xlsx_broken_after_the_header(False))
    assert refused.status_code == 422 and "mismatched tag" in refused.text
    # With one, the break is found while the job reads: the job fails and says why.
    started = upload(client, headers, "experts", "b.xlsx", _xlsx_broken_after_the_header(True))
    assert started.status_code == 202, started.text
    job = wait_for(client, headers, started.json()["id"])
    assert job["status"] == "failed" and "after row" in job["error"]
