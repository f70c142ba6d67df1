"""Term translation through CC-CEDICT: which words a query brings to the other language."""

from __future__ import annotations

from greenplat.indexer.translation import candidate_terms, dictionary, parse, translated_terms

LINES = [
    "# CC-CEDICT sample",
    "電池 电池 [dian4 chi2] /battery/CL:節|节[jie2]/",
    "炮臺 炮台 [pao4 tai2] /fort/battery (artillery)/",
    "預警 预警 [yu4 jing3] /warning/early warning/",
    "單片機 单片机 [dan1 pian4 ji1] /microcontroller/one-chip computer/",
    "熱 热 [re4] /heat/hot/",
    "警告 警告 [jing3 gao4] /to warn/warning/",
    "熱量 热量 [re4 liang4] /quantity of heat/calorific value/heat/",
    "電 电 [dian4] /electric/electricity/battery/",
    "熱失控 热失控 [re4 shi1 kong4] /thermal runaway/",
]


def test_sample_dictionary_prefers_the_word_whose_first_sense_is_the_phrase():
    sample = parse(LINES)
    assert sample.to_zh["battery"][0] == "电池"  # 炮台 is first of all a fort
    # One-character words are too ambiguous to keep without a library to choose.
    assert "hot" not in sample.to_zh and sample.to_zh["heat"] == ("热量",)
    assert sample.chinese_terms("early warning for batteries") == ["预警", "电池"]
    assert sample.to_en["单片机"] == ("microcontroller", "chip", "computer")


def test_search_candidates_keep_every_word_of_a_phrase_likeliest_first():
    sample = parse(LINES)
    # One-character words and later senses are candidates: the library decides among them.
    assert sample.candidates["heat"] == ("热", "热量")
    assert sample.candidates["battery"] == ("电池", "炮台", "电")
    assert set(sample.candidate_terms("battery heat")) == {"电池", "炮台", "电", "热", "热量"}


def test_the_words_a_library_holds_are_chosen_the_most_held_first():
    sample = parse(LINES)
    held = {"电池": 3, "电": 7, "热量": 2}
    assert sample.held_terms("battery heat", held) == ["电", "电池", "热量"]
    # A phrase none of whose words is held gives way to its words one by one.
    assert sample.held_terms("early warning", {"预警": 1, "警告": 2}) == ["预警"]
    assert sample.held_terms("early warning", {"警告": 2}) == ["警告"]
    assert sample.held_terms("battery heat", {}) == []


def test_english_phrases_become_chinese_index_terms():
    found = dictionary().chinese_terms("Battery thermal runaway early warning")
    assert {"电池", "预警"} <= set(found)
    assert dictionary().chinese_terms("the of and") == []


def test_chinese_words_become_english_index_terms():
    found = dictionary().english_terms("低功耗单片机上的关键词唤醒")
    assert {"microcontroller", "keyword", "wake"} <= set(found)


def test_an_english_query_is_translated_into_the_chinese_terms_a_library_holds():
    text = "battery early warning"
    assert {"电池", "预警"} <= set(candidate_terms(text))
    held = dict.fromkeys(candidate_terms(text), 1)
    assert {"电池", "预警"} <= set(translated_terms(text, held))
    assert translated_terms(text, {"预警": 4}) == ["预警"]


def test_chinese_mixed_or_languageless_queries_are_not_translated():
    # A Chinese query's lexical list already meets the Chinese records; its English senses
    # would meet English words scattered in Chinese abstracts (measured worse).
    assert candidate_terms("单片机关键词") == []
    # Both languages present: each lexical term already meets its own records.
    assert candidate_terms("基于Transformer模型的缺陷检测 for steel surfaces in factories") == []
    assert candidate_terms("2024 12") == []
    assert translated_terms("2024 12", {"2024": 1}) == []
