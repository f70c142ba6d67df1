"""Latency of the visitor's pages (front door, visitor search browse, reset form) in-process.

python -m bench.front_door DATA_DIR   # a data dir with the demo loaded: greenplat demo load
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from greenplat.api.app import create_app
from greenplat.core.db import open_database
from greenplat.core.settings import Settings
from greenplat.platform import Platform

PATHS = ("/", "/search?library=problems", "/search?library=experts", "/password/forgot")
ROUNDS = 50


def run(data_dir: Path) -> None:
    """Print median and p95 milliseconds of each visitor page (after one warm-up request)."""
    settings = Settings(env="test", data_dir=data_dir)
    db = open_database(settings, upgrade=False)
    try:
        with TestClient(create_app(platform=Platform(settings, db))) as client:
            for path in PATHS:
                client.get(path)
                times = []
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                print(f"GET {path}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")
    finally:
        db.close()


if __name__ == "__main__":
    run(Path(sys.argv[1]))
