"""Cross-language search on the demo's problems: an English need finds the Chinese problem
about it and a Chinese need the English one, through the real search path and the bar."""

from __future__ import annotations

import json

import pytest

from greenplat.core.demo.loader import default_data_dir
from greenplat.core.permissions import SYSTEM
from greenplat.indexer.modelprep import E5_SMALL_NAME, prepare_e5_small
from greenplat.indexer.service import Indexer
from greenplat.matcher.search import retrieve

pytestmark = pytest.mark.slow


def _demo_rows(library: str) -> list[dict]:
    path = default_data_dir() / f"{library}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def demo_problems(records) -> dict[str, int]:
    """The demo's problems (Chinese and English), indexed as they are in the demo."""
    return {
        row["external_id"]: records.problem(
            row["title"],
            row["description"],
            external_id=row["external_id"],
            keywords=row.get("keywords") or [],
            status="approved",
        )
        for row in _demo_rows("problems")
    }


def _indexer(index_settings, fresh_index_db, *, cross_language: bool) -> Indexer:
    settings = index_settings.model_copy(update={"models": "zh:e5-small,en:minilm"})
    prepare_e5_small(settings.models_dir / E5_SMALL_NAME)  # quick when already prepared
    return Indexer(settings, fresh_index_db, cross_language=cross_language)


def _shown(indexer: Indexer, conn, text: str) -> list[str]:
    """External ids of the problems a free-text search shows (the bar on), best first."""
    found = retrieve(indexer, "problems", text, conn=conn, principal=SYSTEM, k=10)
    return [row["external_id"] for _, _, row in found]


def test_english_and_chinese_needs_find_their_problem_in_the_other_language(
    iconn, index_settings, fresh_index_db, demo_problems
):
    indexer = _indexer(index_settings, fresh_index_db, cross_language=True)
    try:
        assert indexer.sync_pending() == len(demo_problems)
        # 储能电站磷酸铁锂电池热失控早期预警: before, the English mRNA vaccine and keyword
        # spotting problems ranked above it (they share words and a model with the query).
        assert _shown(indexer, iconn, "battery thermal runaway early warning")[0] == "PRB-002"
        # And back: a Chinese need finds the English keyword-spotting problem.
        assert _shown(indexer, iconn, "低功耗单片机上的常开关键词唤醒")[0] == "PRB-033"
    finally:
        indexer.close()
    # The search as it was (one language's lists, the bar fitted within one language) hid it.
    before = _indexer(index_settings, fresh_index_db, cross_language=False)
    try:
        assert "PRB-002" not in _shown(before, iconn, "battery thermal runaway early warning")
    finally:
        before.close()


@pytest.fixture
def demo_achievements(records) -> dict[str, int]:
    """The demo's achievements (Chinese and English), indexed as they are in the demo."""
    return {
        row["external_id"]: records.achievement(
            row["title"],
            row.get("abstract") or "",
            external_id=row["external_id"],
            keywords=row.get("keywords") or [],
        )
        for row in _demo_rows("achievements")
    }


def test_a_chinese_need_finds_the_english_achievement_through_its_english_words(
    iconn, index_settings, fresh_index_db, demo_achievements
):
    """A Chinese query's dictionary English words search the records titled in English: the
    English lipid-library and TinyNAS achievements come first, where before a Chinese
    neighbour did (or the English one ranked below it)."""
    queries = {
        "用于高效稳定mRNA脂质纳米粒的组合可电离脂质库": "ACH-043",
        "TinyNAS工具包：面向单片机的硬件感知神经网络结构搜索": "ACH-086",
    }

    def first(indexer: Indexer, text: str) -> str | None:
        found = retrieve(indexer, "achievements", text, conn=iconn, principal=SYSTEM, k=10)
        return found[0][2]["external_id"] if found else None

    indexer = _indexer(index_settings, fresh_index_db, cross_language=True)
    try:
        assert indexer.sync_pending() == len(demo_achievements)
        for text, own in queries.items():
            assert first(indexer, text) == own, text
    finally:
        indexer.close()
    before = _indexer(index_settings, fresh_index_db, cross_language=False)
    try:
        assert [first(before, text) for text in queries] != list(queries.values())
    finally:
        before.close()


def test_an_english_need_passes_the_bar_with_the_words_its_search_chose(
    iconn, index_settings, fresh_index_db, demo_problems
):
    """The bar's shared words across languages include the Chinese words the search chose
    from what the library holds (weighted as those words weigh): these English needs' own
    Chinese problems rank first but were held below the bar by the dictionary's likeliest
    words alone."""
    needs = {
        "Machining accuracy drift caused by thermal error of CNC machine tool spindles": "PRB-024",
        "Early fault diagnosis and remaining useful life prediction of wind turbine gearboxes": (
            "PRB-026"
        ),
    }
    indexer = _indexer(index_settings, fresh_index_db, cross_language=True)
    try:
        assert indexer.sync_pending() == len(demo_problems)
        for text, own in needs.items():
            assert _shown(indexer, iconn, text)[:1] == [own], text
        # Out of the library's field, still nothing.
        assert _shown(indexer, iconn, "quantum computing chip design") == []
        assert _shown(indexer, iconn, "medieval poetry rhythm analysis") == []
    finally:
        indexer.close()
