"""`greenplat serve` on the embedded database stops it again when asked to stop."""

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


def _serve(data_dir: Path) -> subprocess.Popen:
    """`greenplat serve` on the embedded database, once it answers /healthz."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(GREENPLAT_ENV="test", GREENPLAT_MODELS="en:minilm")
    port = _free_port()
    greenplat = str(Path(sys.executable).with_name("greenplat"))
    command = [greenplat, "serve", "--data-dir", str(data_dir), "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise AssertionError("serve did not start")
        time.sleep(0.5)


def _stop_all(data_dir: Path, *servers: subprocess.Popen) -> None:
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait()
    leftover = _postmaster(data_dir / "pg")
    if leftover is not None:
        leftover.terminate()


@pytest.mark.slow
def test_sigterm_stops_the_server_and_its_embedded_postgresql(tmp_path_factory):
    data_dir = _data_dir(tmp_path_factory)
    server = _serve(data_dir)
    try:
        postmaster = _postmaster(data_dir / "pg")
        assert postmaster is not None and postmaster.is_running()

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        postmaster.wait(timeout=30)  # raises TimeoutExpired while PostgreSQL keeps running
        assert not postmaster.is_running()
    finally:
        _stop_all(data_dir, server)


@pytest.mark.slow
def test_after_a_kill_9_the_next_serve_still_stops_postgresql(tmp_path_factory):
    data_dir = _data_dir(tmp_path_factory)
    killed = _serve(data_dir)
    later = None
    try:
        killed.kill()  # SIGKILL: no clean-up, its pid stays in the library's list of users
        killed.wait(timeout=30)
        postmaster = _postmaster(data_dir / "pg")
        assert postmaster is not None and postmaster.is_running()
        assert str(killed.pid) in (data_dir / "pg" / ".handle_pids.json").read_text()

        later = _serve(data_dir)  # joins the PostgreSQL the killed one left running
        later.send_signal(signal.SIGTERM)
        later.wait(timeout=60)
        postmaster.wait(timeout=30)  # raises TimeoutExpired while PostgreSQL keeps running
        assert not postmaster.is_running()
    finally:
        _stop_all(data_dir, killed, *([later] if later else []))
