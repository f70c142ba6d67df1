"""Uploads over real HTTP never stall the server: /healthz answers while a file is refused or
imported (the issue measured 142 s for a 2M-row XLSX and 9.4 s for a 10k-row import)."""

from __future__ import annotations

import contextlib
import io
import socket
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The app served by uvicorn in a process of its own over the test database, without the
# outbox dispatcher (so no model loads): the test process only sends requests.
SERVE = """
import sys, uvicorn
from greenplat.api.app import create_app
from greenplat.core.db import Database
from greenplat.core.settings import Settings
from greenplat.platform import Platform
settings = Settings(env="test", database_url=sys.argv[1], data_dir=sys.argv[3])
app = create_app(platform=Platform(settings, Database(sys.argv[1])))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=False, log_level="warning")
"""


@pytest.fixture(scope="module")
def served(db, tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    folder = tmp_path_factory.mktemp("served")
    server = subprocess.Popen([sys.executable, "-c", SERVE, db.url, str(port), str(folder)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture(scope="module")
def two_million_rows(tmp_path_factory) -> Path:
    """A real 2M-row XLSX (openpyxl's write-only workbook, its sheet streamed to 2M rows)."""
    skeleton = io.BytesIO()
    book = Workbook(write_only=True)
    book.create_sheet("rows").append(["external_id", "title", "description"])
    book.save(skeleton)
    path = tmp_path_factory.mktemp("xlsx") / "two-million.xlsx"
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != SHEET:
                z.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with z.open(SHEET, "w", force_zip64=True) as sheet:
                sheet.write(head)
                for start in range(2, 2_000_002, 50_000):
                    sheet.write(
                        "".join(f'<row r="{n}"/>' for n in range(start, start + 50_000)).encode()
                    )
                sheet.write(b"</sheetData>" + tail)
    return path


class Healthz:
    """Polls /healthz from a thread, keeping every latency."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            for _ in range(5):  # warm up: the connection and the server's thread pool
                client.get("/healthz")
            self._ready.set()
            while not self._stop.is_set():
                start = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                self.latencies.append(time.perf_counter() - start)
                time.sleep(0.01)

    def __enter__(self) -> Healthz:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * 0.95) - 1)]

    def summary(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        median, p95 = statistics.median(ms), self.p95 * 1000
        return f"/healthz n={len(ms)} median {median:.1f} ms p95 {p95:.1f} ms max {ms[-1]:.1f} ms"


def _token(base: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/v1/auth/token", json={"username": username, "password": password}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_two_million_row_xlsx_is_refused_in_under_a_second(
    served, two_million_rows, world, build
):
    headers = _token(served, world.usernames["platform_admin"], build.PASSWORD)
    body = two_million_rows.read_bytes()
    with Healthz(served) as health, httpx.Client(base_url=served, timeout=60) as client:
        start = time.perf_counter()
        response = client.post(
            "/v1/imports",
            headers=headers,
            data={"library": "problems"},
            files={"file": ("two-million.xlsx", body, "application/octet-stream")},
        )
        took = time.perf_counter() - start
        time.sleep(0.2)
    size = len(body) / 1e6
    print(f"\n2M-row XLSX ({size:.1f} MB) refused in {took * 1000:.0f} ms; {health.summary()}")
    assert response.status_code == 422 and "1000000" in response.json()["error"]["message"]
    assert took < 1.0
    # The 95th percentile, not the maximum: this machine is shared, its scheduler adds spikes.
    assert health.p95 < 0.1, health.summary()


def test_a_ten_thousand_row_import_leaves_healthz_answering(served, world, build):
    headers = _token(served, world.usernames["platform_admin"], build.PASSWORD)
    tag = build.uid()
    rows = [f"E-L{tag}-{i},负载专家{i},热能;材料,{world.region_a}" for i in range(10_000)]
    body = ("external_id,name,disciplines,region\n" + "\n".join(rows) + "\n").encode()
    with Healthz(served) as health, httpx.Client(base_url=served, timeout=60) as client:
        start = time.perf_counter()
        started = client.post(
            "/v1/imports",
            headers=headers,
            data={"library": "experts"},
            files={"file": ("experts.csv", body, "text/csv")},
        )
        accepted = time.perf_counter() - start
        assert started.status_code == 202, started.text
        job = started.json()
        while job["status"] not in ("done", "failed"):
            time.sleep(0.2)
            job = client.get(f"/v1/imports/{job['id']}", headers=headers).json()
        took = time.perf_counter() - start
    print(
        f"\n10k-row import: accepted in {accepted * 1000:.0f} ms, done in {took:.1f} s; "
        f"{health.summary()}"
    )
    assert (job["status"], job["created"], job["rejected"]) == ("done", 10_000, 0)
    assert accepted < 1.0
    assert health.p95 < 0.1, health.summary()
