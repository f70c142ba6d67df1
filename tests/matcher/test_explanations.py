"""Explanations say why in words: shared terms, works, field, region, score components."""

from __future__ import annotations

from greenplat.core.permissions import SYSTEM
from greenplat.matcher.explain import Evidence, explain, key_terms, shared_terms
from greenplat.matcher.scoring import Components, Signals


def test_key_terms_segment_chinese_and_drop_function_words():
    terms = key_terms("基于深度学习的锂离子电池热失控预测方法")
    assert "锂离子" in terms or "锂离子电池" in terms
    assert "的" not in terms and "基于" not in terms


def test_shared_terms_prefer_the_longer_term():
    shared = shared_terms("锂离子电池热管理", ["锂离子电池的热管理研究"])
    assert shared
    assert all(not any(a != b and a in b for b in shared) for a in shared)


def test_explanation_lists_every_kind_of_reason():
    comps = Components(relevance=0.8, works=0.6, profile=0.5, signals=Signals(1.0, 1.0, 0.9))
    comps.score = 0.81
    why = explain(
        Evidence(
            components=comps,
            query_text="Lithium-ion battery packs overheat while charging",
            candidate_texts=["Thermal runaway of lithium-ion battery packs"],
            works=[("Thermal runaway of lithium-ion battery packs", 0.71)],
            fields=["energy"],
            region="江苏",
            load=(1, 3),
        )
    )
    text = "\n".join(why)
    assert "lithium-ion" in text and "battery" in text
    assert "《Thermal runaway of lithium-ion battery packs》(0.71)" in text
    assert "same field: energy" in text
    assert "same region: 江苏" in text
    assert "open requests: 1/3" in text
    assert "score 0.810" in text and "works 0.600" in text and "profile 0.500" in text


def test_redacted_explanation_holds_no_text_of_the_source():
    comps = Components(relevance=0.7, score=0.7)
    why = explain(
        Evidence(
            components=comps,
            query_text=None,
            candidate_texts=["secret zephyrite anode"],
            works=[("zephyrite anode study", 0.9)],
            redacted=True,
        )
    )
    assert "zephyrite" not in " ".join(why)
    assert "confidential" in why[0]


def test_match_explanations_name_the_experts_relevant_works(mconn, matcher, world):
    page = matcher.problem_experts(world.problems["water"], conn=mconn, principal=SYSTEM)
    top = page.items[0]
    why = " ".join(top.why)
    assert "Reverse osmosis membranes against fouling" in why
    assert "shared key terms" in why and "membranes" in why
    assert top.components["works"] > 0


def test_inbox_explanations_name_the_experts_closest_works(mconn, matcher, world):
    inbox = matcher.expert_problems(world.experts["water"], conn=mconn, principal=SYSTEM)
    top = inbox.items[0]
    assert top.id == world.problems["water"]
    why = " ".join(top.why)
    assert "《Reverse osmosis membranes against fouling》" in why
    assert "desalination" in why or "membranes" in why
