"""`greenplat index ...` and `greenplat models prepare` on a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenplat.cli import app


@pytest.fixture
def run(index_settings, monkeypatch):
    monkeypatch.setenv("GREENPLAT_DATABASE_URL", index_settings.database_url)
    monkeypatch.setenv("GREENPLAT_MODELS", index_settings.models)
    monkeypatch.setenv("GREENPLAT_ENV", "test")
    monkeypatch.delenv("GREENPLAT_BROKER_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_status_sync_search_and_verify(iconn, run, records, indexer):
    record = records.problem("Biogas upgrading", "Upgrade biogas to biomethane with membranes.")

    result = run("index", "status", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["pending"] == 1 and report["libraries"]["problems"] == {
        "records": 1,
        "indexed": 0,
    }

    result = run("index", "verify", "--no-repair")
    assert result.exit_code == 1  # drift: one record not indexed yet

    result = run("index", "sync")
    assert result.exit_code == 0 and "processed 1 outbox rows" in result.stdout

    result = run("index", "search", "problems", "biomethane", "--mode", "lexical")
    assert result.exit_code == 0 and "Biogas upgrading" in result.stdout
    assert indexer.search("problems", text="biomethane", conn=iconn)[0].record_id == record

    result = run("index", "verify", "--no-repair")
    assert result.exit_code == 0 and "drift 0" in result.stdout


def test_search_with_a_bad_library_names_it(run, indexer):
    result = run("index", "search", "patents", "x")
    assert result.exit_code == 2 and "patents" in result.stdout


def test_models_prepare_leaves_the_default_folder_ready(run, settings):
    from greenplat.indexer.embedding import onnx_dir, resolve_source
    from greenplat.indexer.modelprep import E5_SMALL_NAME, is_prepared
    from greenplat.indexer.onnxrun import is_exported

    result = run("models", "prepare")
    assert result.exit_code == 0
    assert "minilm" in result.stdout
    assert is_prepared(settings.models_dir / E5_SMALL_NAME)
    for key in (E5_SMALL_NAME, "minilm"):
        source = resolve_source(key, settings.models_dir)
        assert is_exported(Path(source), onnx_dir(key, settings.models_dir))
