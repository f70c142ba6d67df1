"""The relevance bar across languages: translated terms count as shared, and cosines across
English and Chinese are put on the scale the bar was fitted on."""

from __future__ import annotations

from greenplat.matcher import relevance

PROBLEM_ZH = "储能电站磷酸铁锂电池热失控早期预警：监测电池温度与产气，提前预警热失控。"


def test_english_terms_are_held_by_a_chinese_record_through_the_dictionary():
    query = "battery early warning"
    assert relevance.Terms(query, translate=False).coverage([PROBLEM_ZH]) == 0.0
    assert relevance.Terms(query).coverage([PROBLEM_ZH]) > 0.5


def test_translation_leaves_same_language_coverage_alone():
    text = "锂电池 热失控 预警"
    plain = relevance.Terms(text, translate=False).coverage([PROBLEM_ZH])
    assert relevance.Terms(text).coverage([PROBLEM_ZH]) == plain == 1.0


def test_crosses_only_when_the_languages_differ():
    assert relevance.crosses("battery thermal runaway early warning", [PROBLEM_ZH])
    assert not relevance.crosses("电池热失控", [PROBLEM_ZH])
    assert not relevance.crosses("battery fire", ["Battery fire detection with gas sensors"])
    assert not relevance.crosses("2024", [PROBLEM_ZH])  # no language: nothing to cross


def test_the_measured_gap_lifts_a_cross_language_cosine_over_the_bar():
    gap = relevance.language_gap("e5-small", "search")
    assert 0.0 < gap < 0.2
    assert relevance.language_gap("no-such-model", "search") == 0.0
    # PRB-002 against its English query (measured: cosine 0.788, coverage 0.40 translated).
    assert not relevance.judge("e5-small", "search", 0.788, 0.40).passes
    assert relevance.judge("e5-small", "search", 0.788 + gap, 0.40).passes
