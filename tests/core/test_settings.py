"""Settings derived from the machine: the query embedder's share of the cores."""

from __future__ import annotations

import os

import pytest

from greenplat.core import settings as settings_module
from greenplat.core.settings import Settings, embed_threads_share


@pytest.fixture
def four_allowed_of_two(monkeypatch):
    """A process allowed four cores by its affinity mask while os.cpu_count() says two (the
    count of the machine's cores and the mask disagree in containers and under taskset)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def test_the_share_counts_the_cores_the_process_may_run_on(four_allowed_of_two):
    assert settings_module.available_cpus() == 4
    assert embed_threads_share() == 3
    assert embed_threads_share(2) == 1
    assert embed_threads_share(8) == 1  # never none


def test_unset_embed_threads_take_the_share_and_a_set_one_wins(four_allowed_of_two, tmp_path):
    assert Settings(data_dir=tmp_path).effective_embed_threads == 3
    assert Settings(data_dir=tmp_path, embed_threads=2).effective_embed_threads == 2
