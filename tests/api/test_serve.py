"""`greenplat serve` on the embedded database: its worker processes answer one port and add
up their metrics, and it stops them and the database again when asked to stop (or killed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postmaster(pgdata: Path) -> psutil.Process | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return psutil.Process(pid) if psutil.pid_exists(pid) else None


def _data_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("greenplat-serve")
    for path in (data_dir, *data_dir.parents):
        if str(path).startswith("/tmp"):
            path.chmod(path.stat().st_mode | 0o755)
    return data_dir


def _serve(data_dir: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """`greenplat serve` on the embedded database, once it answers /healthz; and its URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    # What is tested here is the processes' life, not search: no warm-up (5-10 s a start).
    env.update(GREENPLAT_ENV="test", GREENPLAT_MODELS="en:minilm", GREENPLAT_WARM_SEARCH="false")
    port = _free_port()
    greenplat = str(Path(sys.executable).with_name("greenplat"))
    command = [greenplat, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    command += ["--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server, f"http://127.0.0.1:{port}"
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise AssertionError("serve did not start")
        time.sleep(0.5)


def _workers(server: subprocess.Popen) -> list[psutil.Process]:
    """The processes uvicorn started to answer for the server (multiprocessing spawns them)."""
    children = psutil.Process(server.pid).children()
    return [child for child in children if "spawn_main" in " ".join(child.cmdline())]


def _stop_all(data_dir: Path, *servers: subprocess.Popen) -> None:
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait()
    leftover = _postmaster(data_dir / "pg")
    if leftover is not None:
        leftover.terminate()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_the_server_and_its_embedded_postgresql(tmp_path_factory, workers):
    data_dir = _data_dir(tmp_path_factory)
    server, _ = _serve(data_dir, workers)
    try:
        postmaster = _postmaster(data_dir / "pg")
        assert postmaster is not None and postmaster.is_running()
        answering = _workers(server)
        assert len(answering) == (workers if workers > 1 else 0)

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        postmaster.wait(timeout=30)  # raises TimeoutExpired while PostgreSQL keeps running
        assert not postmaster.is_running()
        assert not any(worker.is_running() for worker in answering)
    finally:
        _stop_all(data_dir, server)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_after_a_kill_9_the_next_serve_still_stops_postgresql(tmp_path_factory, workers):
    data_dir = _data_dir(tmp_path_factory)
    killed, _ = _serve(data_dir, workers)
    later = None
    try:
        answering = _workers(killed)
        killed.kill()  # SIGKILL: no clean-up, its pid stays in the library's list of users
        killed.wait(timeout=30)
        # its workers notice and stop (else they would go on answering and holding PostgreSQL)
        _, alive = psutil.wait_procs(answering, timeout=30)
        assert not alive
        postmaster = _postmaster(data_dir / "pg")
        assert postmaster is not None and postmaster.is_running()
        assert str(killed.pid) in (data_dir / "pg" / ".handle_pids.json").read_text()

        later, _ = _serve(data_dir, workers)  # joins the PostgreSQL the killed one left running
        later.send_signal(signal.SIGTERM)
        later.wait(timeout=60)
        postmaster.wait(timeout=30)  # raises TimeoutExpired while PostgreSQL keeps running
        assert not postmaster.is_running()
    finally:
        _stop_all(data_dir, killed, *([later] if later else []))


def _probes_answered(files: list[Path]) -> float:
    """How many GET /healthz the metric files of these processes counted."""
    counted = 0.0
    for metric in MultiProcessCollector.merge([str(f) for f in files], accumulate=True):
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels.get("route") == "/healthz":
                counted += sample.value
    return counted


@pytest.mark.slow
def test_two_workers_answer_one_port_and_a_scrape_adds_up_both(tmp_path_factory):
    data_dir = _data_dir(tmp_path_factory)
    server, base = _serve(data_dir, 2)
    try:
        answering = _workers(server)
        assert len(answering) == 2
        folder = Path(answering[0].environ()["PROMETHEUS_MULTIPROC_DIR"])
        files = {w.pid: sorted(folder.glob(f"*_{w.pid}.db")) for w in answering}
        sent = 0
        # a new connection each time, until each worker has answered some
        while min(_probes_answered(own) for own in files.values()) == 0:
            assert sent < 500, "one of the two workers never answered"
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
            sent += 1
        each = [_probes_answered(own) for own in files.values()]

        scraped = httpx.get(f"{base}/metrics", timeout=10)
        assert scraped.status_code == 200
        total = sum(
            sample.value
            for family in text_string_to_metric_families(scraped.text)
            for sample in family.samples
            if sample.name == "greenplat_http_request_duration_seconds_count"
            and sample.labels.get("route") == "/healthz"
        )
        assert total == sum(each)  # whichever worker answered the scrape
        assert total >= sent
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        _stop_all(data_dir, server)
