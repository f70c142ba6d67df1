"""Term translation through CC-CEDICT: which words a query brings to the other language."""

from __future__ import annotations

from greenplat.indexer.translation import dictionary, parse, translated_terms

LINES = [
    "# CC-CEDICT sample",
    "電池 电池 [dian4 chi2] /battery/CL:節|节[jie2]/",
    "炮臺 炮台 [pao4 tai2] /fort/battery (artillery)/",
    "預警 预警 [yu4 jing3] /warning/early warning/",
    "單片機 单片机 [dan1 pian4 ji1] /microcontroller/one-chip computer/",
    "熱 热 [re4] /heat/hot/",
]


def test_sample_dictionary_prefers_the_word_whose_first_sense_is_the_phrase():
    sample = parse(LINES)
    assert sample.to_zh["battery"][0] == "电池"  # 炮台 is first of all a fort
    assert "heat" not in sample.to_zh  # one-character words are too ambiguous to keep
    assert sample.chinese_terms("early warning for batteries") == ["预警", "电池"]
    assert sample.to_en["单片机"] == ("microcontroller", "chip", "computer")


def test_english_phrases_become_chinese_index_terms():
    found = dictionary().chinese_terms("Battery thermal runaway early warning")
    assert {"电池", "预警"} <= set(found)
    assert dictionary().chinese_terms("the of and") == []


def test_chinese_words_become_english_index_terms():
    found = dictionary().english_terms("低功耗单片机上的关键词唤醒")
    assert {"microcontroller", "keyword", "wake"} <= set(found)


def test_an_english_query_is_translated_into_chinese_terms():
    assert {"电池", "预警"} <= set(translated_terms("battery early warning"))


def test_chinese_mixed_or_languageless_queries_are_not_translated():
    # A Chinese query's lexical list already meets the Chinese records; its English senses
    # would meet English words scattered in Chinese abstracts (measured worse).
    assert translated_terms("单片机关键词") == []
    # Both languages present: each lexical term already meets its own records.
    assert translated_terms("基于Transformer模型的缺陷检测 for steel surfaces in factories") == []
    assert translated_terms("2024 12") == []
