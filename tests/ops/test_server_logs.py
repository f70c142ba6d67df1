"""The API as deployed (uvicorn factory, JSON logs): every line is JSON, ids reach the logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest


@pytest.mark.slow
def test_uvicorn_writes_only_json_lines_with_the_request_id(ops_settings, closed_port, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_ENV="test",
        GREENPLAT_DATABASE_URL=str(ops_settings.database_url),
        GREENPLAT_MODELS="en:minilm",
        GREENPLAT_LOG_JSON="true",
    )
    log_path = tmp_path / "api.log"
    # the command line of deploy/compose.yaml and deploy/k8s/base/api.yaml
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "greenplat.api.app:create_app"),
        *("--host", "127.0.0.1", "--port", str(closed_port), "--no-access-log"),
    ]
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{closed_port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the API did not start:\n" + log_path.read_text())
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        denied = httpx.get(f"{base}/v1/problems", headers={"X-Request-ID": "trace-me-1"})
        assert denied.headers["X-Request-ID"] == "trace-me-1"
    finally:
        server.terminate()
        server.wait(30)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any non-JSON line
    traced = [r for r in records if r.get("request_id") == "trace-me-1"]
    assert traced and traced[0]["status"] == denied.status_code
    assert traced[0]["path"] == "/v1/problems"
    # probes stay out of the access log
    assert not any(r.get("path") in ("/healthz", "/readyz") for r in records)
