"""Explanations say why in plain words, in the reader's language: shared terms that carry
meaning, the works that show the fit, field, region and load; no score jargon."""

from __future__ import annotations

import re

from greenplat.core.permissions import SYSTEM
from greenplat.matcher.explain import key_terms, shared_terms
from greenplat.matcher.reasons import Evidence, closest_works, explain
from greenplat.matcher.scoring import Components, Signals

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_key_terms_segment_chinese_and_drop_function_words():
    terms = key_terms("基于深度学习的锂离子电池热失控预测方法")
    assert "锂离子" in terms or "锂离子电池" in terms
    assert "的" not in terms and "基于" not in terms


def test_shared_terms_prefer_the_longer_term():
    shared = shared_terms("锂离子电池热管理", ["锂离子电池的热管理研究"])
    assert shared
    assert all(not any(a != b and a in b for b in shared) for a in shared)


def test_filler_words_are_never_shared_key_terms():
    problem = "现有方案给出的预警时间低于1分钟，需开发以上指标超过10分钟的储能电池热失控预警方法"
    work = "储能电池热失控预警：现有方案给出的时间低于要求，开发的方法超过以上指标"
    shared = shared_terms(problem, [work])
    assert "失控" in "".join(shared) and "储能" in shared and "预警" in shared
    for filler in ("给出", "超过", "低于", "方案", "以上", "现有", "开发"):
        assert filler not in shared


def test_reasons_are_one_plain_sentence_per_language():
    comps = Components(relevance=0.8, signals=Signals(field=1.0, region=1.0))
    works = ["储能电池热失控气体预警方法", "锂电池热失控早期预警系统"]
    reasons = explain(
        Evidence(
            kind="expert",
            components=comps,
            query_text="储能电站磷酸铁锂电池热失控早期预警",
            candidate_texts=works,
            works=works,
            name="王建国",
            fields=["新能源"],
            region="江苏省",
            load=(1, 3),
        )
    )
    zh, en = reasons["zh-CN"], reasons["en"]
    assert zh[0].startswith("王建国的 2 项成果涉及") and "热失控" in zh[0]
    assert "《储能电池热失控气体预警方法》与需求最接近" in zh[0]
    assert "同属新能源领域。" in zh and "同在江苏省。" in zh
    assert not any(re.search(r"[A-Za-z]", line) for line in zh)
    # English mode: English words only, apart from the record's own name and titles.
    data = "|".join(map(re.escape, ["王建国", *works]))
    assert not any(CJK.search(re.sub(data, "", line)) for line in en)
    assert en[0].startswith("2 of 王建国's achievements")
    text = " ".join(zh + en)
    for jargon in ("score", "rank", "relevance", "0.8", "得分", "检索第"):
        assert jargon not in text


def test_redacted_explanation_holds_no_text_of_the_source():
    reasons = explain(
        Evidence(
            kind="inbox",
            components=Components(relevance=0.7, score=0.7),
            query_text=None,
            candidate_texts=["secret zephyrite anode"],
            works=["zephyrite anode study"],
            redacted=True,
        )
    )
    assert "zephyrite" not in str(reasons)
    assert "confidential" in reasons["en"][0] and "保密" in reasons["zh-CN"][0]


def test_evidence_is_chosen_per_problem():
    works = [
        ("Thermal runaway of battery packs", "thermal runaway battery packs cooling", 0.8),
        ("Reverse osmosis membranes", "reverse osmosis membranes fouling desalination", 0.6),
        ("Heavy metals in wastewater", "heavy metals wastewater adsorbents", 0.7),
    ]
    assert closest_works("battery packs overheat: thermal runaway", works)[0].startswith("Thermal")
    assert closest_works("membrane fouling in desalination", works) == ["Reverse osmosis membranes"]
    assert closest_works("quantum chips", works) == ["Thermal runaway of battery packs"]


def test_match_explanations_name_the_experts_relevant_works(mconn, matcher, world):
    top = matcher.problem_experts(world.problems["water"], principal=SYSTEM, conn=mconn).items[0]
    assert top.why == top.reasons["en"]  # an English problem: English reasons
    why = " ".join(top.why)
    assert "“Reverse osmosis membranes against fouling”" in why and "membranes" in why
    assert top.components["works"] > 0


def test_inbox_explanations_name_the_works_that_meet_each_problem(mconn, matcher, world):
    inbox = matcher.expert_problems(world.experts["water"], principal=SYSTEM, conn=mconn)
    top = inbox.items[0]
    assert top.id == world.problems["water"]
    why = " ".join(top.why)
    assert "“Reverse osmosis membranes against fouling”" in why
    assert "desalination" in why or "membranes" in why or "osmosis" in why
    battery = matcher.expert_problems(world.experts["battery"], principal=SYSTEM, conn=mconn).items[
        0
    ]
    assert battery.id == world.problems["battery"]
    assert "“Thermal runaway of lithium-ion battery packs”" in " ".join(battery.why)
