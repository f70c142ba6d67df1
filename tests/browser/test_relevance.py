"""What a reader sees when nothing fits, and how a fit is told: levels, not raw scores."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
LEVELS = {"高度匹配", "较匹配", "可能相关"}


def search(page, text: str, library: str) -> None:
    page.fill("#q", text)
    page.select_option("#library", library)
    page.click("#search-submit")


@pytest.mark.parametrize("text", ["asdkjhqwe", "量子计算 芯片"])
def test_a_search_that_nothing_fits_shows_an_honest_empty_state(visit, text):
    tab = visit("no-match")
    page = tab.page
    tab.sign_in("ent-huachu")
    tab.go("/search")
    for library in ("achievements", "experts"):
        search(page, text, library)
        expect(page.locator(".no-match")).to_contain_text("暂无合适匹配")
        expect(page.locator(".no-match .hint")).to_contain_text("更具体的技术词语")
        expect(page.locator("#results .result")).to_have_count(0)
        expect(page.locator("p.muted").first).to_contain_text("共 0 条")
    tab.shot("search-no-match")


def test_a_fitting_search_shows_levels_in_the_readers_language(visit):
    tab = visit("search-levels")
    page = tab.page
    tab.sign_in("ent-huachu")
    tab.go("/search")
    search(page, "储能电池热失控预警", "achievements")
    results = page.locator("#results .result")
    expect(results.first).to_be_visible()
    assert set(results.locator(".level").all_inner_texts()) <= LEVELS
    assert results.count() < 30  # only what passes the bar, not the search depth
    tab.shot("search-levels")


def test_battery_safety_problem_is_recommended_battery_safety_not_machining(visit, portal):
    tab = visit("prb-002")
    page = tab.page
    tab.sign_in("ent-huachu")
    tab.go(f"/problems/{portal['ids']['PRB-002']}")
    experts = page.locator("#experts .expert-rec")
    expect(experts.first).to_be_visible()
    assert set(page.locator("#experts .level").all_inner_texts()) <= LEVELS
    # Neighbouring fields pass (gas sensing, liquid cooling); machining does not.
    names = page.locator("#experts").inner_text()
    assert "谢敏" in names and "赵丽" in names
    assert "高翔" not in names and "Thomas Keller" not in names
    works = page.locator("#achievements").inner_text()
    assert "液冷热管理" in works  # liquid cooling: a neighbouring battery-safety work
    assert "加工中心" not in works
    tab.shot("prb-002-recommendations")


def test_each_served_worker_warmed_search_before_its_start_up_completed(portal):
    log = (portal["data_dir"] / "serve.log").read_text(encoding="utf-8")
    started = log.count("Application startup complete")
    assert started >= 1
    # The warm-up runs in the start-up (api.app.warm): logged once per worker, before it.
    assert log.count("search warmed in") == started, log[-2000:]
