"""Text analysis: the same terms at index and query time, languages told apart."""

from __future__ import annotations

import pytest

from greenplat.indexer.analysis import languages, terms, tsquery_literal, tsvector_literal


def test_chinese_is_segmented_into_words_and_their_parts():
    found = terms("废旧锂电池回收中的正极材料再生技术")
    assert {"锂电池", "电池", "回收", "正极", "材料", "再生"} <= set(found)
    assert "的" not in found  # stopword
    assert "，" not in terms("回收，再生")  # punctuation is never a term


def test_english_is_lowercased_and_split_on_punctuation():
    assert terms("Machine-Learning for the PLC") == ["machine", "learning", "plc"]


def test_mixed_text_keeps_both_languages():
    assert terms("基于Transformer的缺陷检测") == ["transformer", "缺陷", "检测"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("高温合金的蠕变性能研究", {"zh"}),
        ("Creep behaviour of nickel superalloys at high temperature", {"en"}),
        ("基于PLC和AI的产线控制", {"zh"}),  # two acronyms do not make English text
        ("风电叶片 wind turbine blade erosion protection coating", {"zh", "en"}),
        ("2024", set()),
    ],
)
def test_languages_of_a_text(text, expected):
    assert languages(text) == expected


def test_tsvector_literal_weights_positions_and_quotes():
    literal = tsvector_literal([("A", ["锂电池", "o'neil"]), ("D", ["锂电池"])])
    assert literal == "'锂电池':1A,3D 'o''neil':2A"


def test_tsquery_literal_ors_unique_terms():
    assert tsquery_literal(["a1", "电池", "a1"]) == "'a1' | '电池'"
    assert tsquery_literal([]) is None


def test_overlong_tokens_are_not_terms():
    assert terms("ACGT" * 600 + " 测序") == ["测序"]
