"""`greenplat doctor` run as the real command against real and dead dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from greenplat.core.settings import Settings

GREENPLAT = Path(sys.executable).with_name("greenplat")


def doctor(settings: Settings, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPLAT_")}
    env.update(
        GREENPLAT_ENV="test",
        GREENPLAT_DATABASE_URL=str(settings.database_url),
        GREENPLAT_MODELS=settings.models,
        GREENPLAT_MODELS_DIR=str(settings.models_dir),
        COLUMNS="200",
        **extra,
    )
    command = [str(GREENPLAT) if GREENPLAT.exists() else shutil.which("greenplat"), "doctor"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_doctor_reports_a_healthy_platform(ops_settings, ops_db):
    with ops_db.session() as conn:
        conn.execute("TRUNCATE outbox RESTART IDENTITY")
    result = doctor(ops_settings)
    assert result.returncode == 0, result.stdout + result.stderr
    for component in ("settings", "database", "search", "broker", "outbox", "workers", "models"):
        assert component in result.stdout
    assert "FAIL" not in result.stdout
    assert "all components are healthy" in result.stdout


def test_doctor_names_the_dead_broker_and_what_to_do(ops_settings, closed_port):
    result = doctor(ops_settings, GREENPLAT_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0")
    assert result.returncode == 1
    broker_line = next(line for line in result.stdout.splitlines() if line.startswith("│ broker "))
    assert "FAIL" in broker_line and "GREENPLAT_BROKER_URL" in broker_line
    assert "needs attention" in result.stdout and "broker" in result.stdout.splitlines()[-1]


def test_doctor_names_a_database_it_cannot_reach(ops_settings, closed_port):
    dead = ops_settings.model_copy(
        update={"database_url": f"postgresql://greenplat@127.0.0.1:{closed_port}/greenplat"}
    )
    result = doctor(dead)
    assert result.returncode == 1
    database_line = next(
        line for line in result.stdout.splitlines() if line.startswith("│ database ")
    )
    assert "FAIL" in database_line and "GREENPLAT_DATABASE_URL" in database_line
    # what does not need the database is still checked
    broker_line = next(line for line in result.stdout.splitlines() if line.startswith("│ broker "))
    assert "ok" in broker_line
