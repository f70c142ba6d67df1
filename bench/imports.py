"""Imports never stall the server, and the command line reads big files in bounded memory.

    python -m bench.imports [--rows 10000] [--csv-mb 200]

Serves the API in a process of its own (no outbox dispatcher) on a fresh database and polls
/healthz while (1) nothing happens (the baseline), (2) a 2M-row XLSX is uploaded and
refused, (3) a --rows CSV is imported as a job. Then runs `greenplat import` on a 10-row CSV
(the baseline) and on a --csv-mb CSV, sampling the command's peak resident memory.
The issue measured 142 s for (2), 9.4 s of /healthz stall for (3), and 6 GB for a 200 MB CSV.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx
import psutil
from openpyxl import Workbook

from bench.common import bench_database, percentile
from greenplat.core.accounts import service as accounts

PASSWORD = "bench-password-1"
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_million_rows(path: Path) -> Path:
    """A 2M-row XLSX: openpyxl's write-only workbook, its sheet streamed to 2M rows."""
    skeleton = io.BytesIO()
    book = Workbook(write_only=True)
    book.create_sheet("rows").append(["external_id", "title", "description"])
    book.save(skeleton)
    name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != name:
                z.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with z.open(name, "w", force_zip64=True) as sheet:
                sheet.write(head)
                for start in range(2, 2_000_002, 50_000):
                    rows = (f'<row r="{n}"/>' for n in range(start, start + 50_000))
                    sheet.write("".join(rows).encode())
                sheet.write(b"</sheetData>" + tail)
    return path


class Probe:
    """/healthz latencies from a thread while the block runs."""

    def __init__(self, base: str) -> None:
        self.base, self.latencies = base, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=300) as client:
            while not self._stop.is_set():
                start = time.perf_counter()
                client.get("/healthz")
                self.latencies.append(time.perf_counter() - start)
                time.sleep(0.01)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def line(self, label: str, baseline: Probe | None = None) -> str:
        ms = [x * 1000 for x in self.latencies]
        p50, p95, top = percentile(ms, 50), percentile(ms, 95), max(ms)
        text = f"{label:<34} /healthz p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {top:7.1f} ms"
        if baseline is not None:
            base95 = percentile([x * 1000 for x in baseline.latencies], 95)
            text += f"  (p95 {p95 / base95:.1f}x idle)"
        return f"{text}  n={len(ms)}"


def serve(db_url: str, folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVE, db_url, str(port), str(folder)])
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the API did not start")


def upload(client: httpx.Client, headers: dict, library: str, name: str, body: bytes):
    files = {"file": (name, body, "application/octet-stream")}
    return client.post("/v1/imports", headers=headers, data={"library": library}, files=files)


def server_figures(base: str, folder: Path, rows: int) -> None:
    token = httpx.post(
        f"{base}/v1/auth/token", json={"username": "bench-admin", "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    httpx.get(f"{base}/healthz")
    with Probe(base) as idle:
        time.sleep(3)
    print(idle.line("idle (baseline)"))
    body = two_million_rows(folder / "two-million.xlsx").read_bytes()
    with Probe(base) as probe, httpx.Client(base_url=base, timeout=300) as client:
        start = time.perf_counter()
        response = upload(client, headers, "problems", "two-million.xlsx", body)
        took = time.perf_counter() - start
    print(probe.line("2M-row XLSX upload", idle))
    print(f"  {len(body) / 1e6:.1f} MB, answered {response.status_code} in {took * 1000:.0f} ms")
    lines = [f"E-B{i},专家{i},热能;材料,江苏省" for i in range(rows)]
    body = ("external_id,name,disciplines,region\n" + "\n".join(lines) + "\n").encode()
    with Probe(base) as probe, httpx.Client(base_url=base, timeout=300) as client:
        start = time.perf_counter()
        job = upload(client, headers, "experts", "experts.csv", body).json()
        accepted = time.perf_counter() - start
        while job["status"] not in ("done", "failed"):
            time.sleep(0.2)
            job = client.get(f"/v1/imports/{job['id']}", headers=headers).json()
        took = time.perf_counter() - start
    print(probe.line(f"{rows}-row import job", idle))
    print(f"  accepted in {accepted * 1000:.0f} ms, {job['status']} in {took:.1f} s: {job}")


def peak_rss(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak resident MB, seconds) of a command, sampled every 50 ms."""
    start = time.perf_counter()
    process = psutil.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    if process.returncode != 0:
        raise RuntimeError(process.stderr.read().decode())
    return peak / 1e6, time.perf_counter() - start


def write_csv(path: Path, megabytes: int) -> int:
    """A CSV of about that size; every row lacks its description, so each is rejected."""
    text = "钢渣资源化利用，每年二十万吨，寻求高值化利用路线。" * 40
    rows = 0
    with path.open("w", encoding="utf-8") as f:
        f.write("external_id,title,notes\n")
        while f.tell() < megabytes * 1024 * 1024:
            f.write(f"P-M{rows},钢渣 {rows},{text}\n")
            rows += 1
    return rows


def cli_figures(db_url: str, folder: Path, megabytes: int) -> None:
    greenplat = str(Path(sys.executable).parent / "greenplat")
    env = {**os.environ, "GREENPLAT_DATABASE_URL": db_url, "GREENPLAT_DATA_DIR": str(folder)}
    small = folder / "small.csv"
    small.write_text("external_id,title\n" + "".join(f"P-S{i},t\n" for i in range(10)), "utf-8")
    # The first run also indexes what the server's jobs left in the outbox (models load).
    peak_rss([greenplat, "import", "problems", str(small)], env)
    base, _ = peak_rss([greenplat, "import", "problems", str(small)], env)
    big = folder / "big.csv"
    rows = write_csv(big, megabytes)
    peak, took = peak_rss([greenplat, "import", "problems", str(big)], env)
    print(f"greenplat import, 10-row CSV (baseline)  peak RSS {base:7.0f} MB")
    print(
        f"greenplat import, {big.stat().st_size / 1e6:.0f} MB CSV ({rows} rows)"
        f"  peak RSS {peak:7.0f} MB ({peak / base:.2f}x baseline) in {took:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--csv-mb", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="greenplat-bench-imports-"))
    try:
        with bench_database(models="en:minilm") as (_, db):
            with db.session() as conn:
                accounts.create_user(
                    conn=conn, username="bench-admin", password=PASSWORD, role="platform_admin"
                )
            server, base = serve(db.url, folder)
            try:
                server_figures(base, folder, args.rows)
            finally:
                server.terminate()
                server.wait(30)
            cli_figures(db.url, folder, args.csv_mb)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
