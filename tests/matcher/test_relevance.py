"""The relevance bar: nothing is shown when nothing fits, levels when something does."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greenplat.api.app import create_app
from greenplat.api.web import matching as web_matching
from greenplat.cli import app
from greenplat.core.permissions import SYSTEM
from greenplat.matcher import relevance
from greenplat.platform import Platform

PASSWORD = "matcher-test-password-1"
NOTHING_FITS = ["asdkjhqwe", "的 了 是", "quantum computing chip design", "藏嘛鞋蹦猾"]


@pytest.fixture(scope="module")
def api_inbox(match_settings, match_db, world):
    """A client signed in as the membrane expert."""
    platform = Platform(match_settings, match_db)
    with TestClient(create_app(platform=platform)) as client:
        response = client.post(
            "/v1/auth/token", json={"username": world.usernames["water"], "password": PASSWORD}
        )
        token = response.json()["access_token"]
        yield client, {"Authorization": f"Bearer {token}"}
    platform.indexer.close()


def ids(page) -> list[str]:
    return [item.external_id for item in page.items]


@pytest.mark.parametrize("text", NOTHING_FITS)
@pytest.mark.parametrize("library", ["achievements", "experts", "problems"])
def test_text_that_nothing_fits_gets_no_match(mconn, matcher, text, library):
    assert matcher.search(text, library, principal=SYSTEM, conn=mconn).items == []
    # The bar, not the search, is what empties the list: lifted, the ranking is still there.
    assert matcher.search(text, library, bar=False, principal=SYSTEM, conn=mconn).items


def test_a_fitting_text_passes_with_a_level_and_its_probability(mconn, matcher):
    page = matcher.search(
        "thermal runaway of lithium-ion battery packs", "achievements", principal=SYSTEM, conn=mconn
    )
    assert ids(page)[0] == "A-battery1"
    assert "A-water1" not in ids(page)  # heavy metals in wastewater: below the bar
    for item in page.items:
        assert item.level in relevance.LEVELS
        assert 0.0 <= item.components["probability"] <= 1.0


def test_problem_recommendations_leave_out_what_does_not_fit(mconn, matcher, world):
    experts = matcher.problem_experts(world.problems["water"], principal=SYSTEM, conn=mconn).items
    assert [m.external_id for m in experts] == ["E-water"]
    works = ids(matcher.problem_achievements(world.problems["water"], principal=SYSTEM, conn=mconn))
    assert works and all(w.startswith("A-water") for w in works)


def test_inbox_holds_only_problems_above_the_bar(mconn, matcher, world):
    page = matcher.expert_problems(world.experts["water"], principal=SYSTEM, conn=mconn)
    assert ids(page) == ["P-water"]
    lifted = matcher.expert_problems(
        world.experts["water"], bar=False, principal=SYSTEM, conn=mconn
    )
    assert len(lifted.items) > 1


def test_achievement_to_problems_applies_the_bar(mconn, matcher, world):
    page = matcher.achievement_problems(world.achievements["water1"], principal=SYSTEM, conn=mconn)
    assert "P-battery" not in ids(page)


def test_enterprise_is_not_recommended_its_own_achievements(mconn, matcher, world):
    own = ids(
        matcher.problem_achievements(
            world.problems["battery"], bar=False, page_size=50, principal=SYSTEM, conn=mconn
        )
    )
    assert "A-acme" not in own and "A-battery1" in own
    # Anyone else searching the same words finds it.
    found = matcher.search(
        "overheating lithium-ion scooter battery packs",
        "achievements",
        principal=SYSTEM,
        conn=mconn,
    )
    assert "A-acme" in ids(found)


def test_match_command_writes_only_passing_matches_and_all_lifts_the_bar(
    mconn, match_settings, world, matcher, tmp_path
):
    env = {"GREENPLAT_DATABASE_URL": match_settings.database_url, "GREENPLAT_MODELS": "en:minilm"}
    queries = tmp_path / "q.jsonl"
    rows = [
        {"query_id": "junk", "query": "asdkjhqwe"},
        {"query_id": "water", "problem_id": "P-water"},
    ]
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    lines = {}
    for option in ([], ["--all"]):
        out = tmp_path / f"out{len(option)}.jsonl"
        args = ["match", "--to", "experts", "--queries", str(queries), "--out", str(out), *option]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        lines[bool(option)] = {
            row["query_id"]: row["matches"]
            for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())
        }
    assert lines[False]["junk"] == []
    assert [m["id"] for m in lines[False]["water"]] == ["E-water"]
    assert lines[True]["junk"] and len(lines[True]["water"]) > 1


def test_judge_orders_levels_and_refuses_nothing_when_uncalibrated():
    fit = relevance.fit_for("minilm", "search")
    assert fit is not None and 0 < fit.bar <= fit.good <= fit.high < 1
    low, high = (relevance.judge("minilm", "search", c, 0.0) for c in (0.0, 0.95))
    assert low.level is None and not low.passes
    assert high.level == "high" and high.probability > low.probability
    unknown = relevance.judge("no-such-model", "search", 0.0, 0.0)
    assert unknown.passes and unknown.probability is None


def test_coverage_weighs_telling_terms_over_common_ones():
    terms = relevance.Terms("lithium battery thermal runaway")
    assert terms.coverage(["thermal runaway of a lithium battery"]) == pytest.approx(1.0)
    assert terms.coverage(["a cooking recipe"]) == 0.0
    assert relevance.Terms("的 了 是").coverage(["的 了 是"]) == 0.0


def test_a_query_of_several_parts_needs_every_part_not_one_generic_term():
    edge = "面向工业边缘设备的深度神经网络量化与部署方法\n边缘计算；芯片"
    assert relevance.Terms("量子计算 芯片").coverage([edge]) > 0.5  # 计算 and 芯片 are shared
    assert relevance.Terms("量子计算 芯片", parts=True).coverage([edge]) == 0.0
    # Every part held (锂电池 in other words: 锂离子电池): the words count again.
    fast_charge = ["基于负极电位观测的锂离子电池无析锂快充策略"]
    assert relevance.Terms("锂电池 快充", parts=True).coverage(fast_charge) > 0.4
    # A problem's text (several lines) and an English query are not split into parts.
    assert not relevance.Terms("储能 电池\n热失控 预警", parts=True).parts
    assert not relevance.Terms("battery thermal runaway", parts=True).parts


def test_calibration_file_covers_every_default_model_and_direction():
    for model in ("e5-small", "minilm"):
        for direction in ("search", "record"):
            assert relevance.fit_for(model, direction) is not None


def test_inbox_filters_by_region_industry_and_level(api_inbox):
    client, headers = api_inbox
    url = "/v1/matches/inbox"
    everything = client.get(url, headers=headers).json()["items"]
    assert [i["external_id"] for i in everything] == ["P-water"]
    assert client.get(url, params={"region": "浙江"}, headers=headers).json()["items"]
    assert client.get(url, params={"region": "北京"}, headers=headers).json()["items"] == []
    assert client.get(url, params={"industry": "energy"}, headers=headers).json()["items"] == []
    level = everything[0]["level"]
    assert client.get(url, params={"level": level}, headers=headers).json()["items"]
    bad = client.get(url, params={"level": "perfect"}, headers=headers)
    assert bad.status_code == 422 and "level" in bad.text


def test_portal_inbox_keeps_only_fits_at_least_the_chosen_level(match_settings, match_db, world):
    platform = Platform(match_settings, match_db)
    me = world.principals["water"]
    try:
        with match_db.session() as conn:
            everything, _ = web_matching.inbox(platform, conn, me)
            [water] = [item["match"] for item in everything]
            for lowest in relevance.LEVELS:
                items, _ = web_matching.inbox(platform, conn, me, level=lowest)
                kept = [item["match"].external_id for item in items]
                assert kept == (["P-water"] if relevance.at_least(water.level, lowest) else [])
    finally:
        platform.indexer.close()


def test_inbox_candidates_come_from_the_index_whatever_the_age(mconn, matcher, world, match_db):
    # An old approval date does not push a fitting problem out of the inbox.
    water = world.problems["water"]
    with match_db.session() as conn:
        old = conn.execute("SELECT approved_at FROM problems WHERE id = %s", (water,)).fetchone()
        conn.execute(
            "UPDATE problems SET approved_at = now() - interval '10 years' WHERE id = %s", (water,)
        )
    try:
        assert ids(
            matcher.expert_problems(world.experts["water"], principal=SYSTEM, conn=mconn)
        ) == ["P-water"]
    finally:
        with match_db.session() as conn:
            conn.execute(
                "UPDATE problems SET approved_at = %s WHERE id = %s", (old["approved_at"], water)
            )
