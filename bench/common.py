"""What the benchmarks share: a throwaway platform database and timing helpers."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from greenplat.core.db import Database, open_database
from greenplat.core.settings import Settings


@contextmanager
def bench_database(keep: Path | None = None, **overrides) -> Iterator[tuple[Settings, Database]]:
    """A fresh embedded PostgreSQL in a temporary folder (or GREENPLAT_BENCH_DATABASE_URL).

    With `keep`, the database lives in that folder and stays there for the next run, so a
    benchmark can skip loading what an earlier run loaded.
    """
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    folder = keep or Path(tempfile.mkdtemp(prefix="greenplat-bench-"))
    folder.chmod(0o755)  # the embedded server runs as an unprivileged user
    settings = Settings(
        env="test",
        data_dir=folder,
        database_url=os.environ.get("GREENPLAT_BENCH_DATABASE_URL"),
        broker_url=None,
        **overrides,
    )
    db = open_database(settings)
    try:
        yield settings, db
    finally:
        db.close()
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary_ms(seconds: list[float]) -> str:
    """p50 / p95 / mean of durations, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return (
        f"p50 {percentile(ms, 50):7.2f} ms   p95 {percentile(ms, 95):7.2f} ms"
        f"   mean {statistics.fmean(ms):7.2f} ms   (n={len(ms)})"
    )
