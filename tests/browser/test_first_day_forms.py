"""The portal's first day in a real browser, in Chinese and English, on a desktop and a phone:
refused forms keep what was typed and say why beside it, error pages keep the signed-in
header and menu, counters show the limits, a closed problem says so, role changes ask first.
Nothing here changes the demo data (other browser tests share it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from greenplat.core.fields import LONG_TEXT_MAX

pytestmark = pytest.mark.browser

# (language, phone): both languages, both screens.
SCREENS = [("zh-CN", False), ("en", True), ("en", False), ("zh-CN", True)]
TEXT = {
    "zh-CN": {
        "comment_needed": "退回时须填写意见",
        "too_long": f"内容过长：最多 {LONG_TEXT_MAX} 个字符",
        "over": "超出 10 个字符",
        "missing": "需求 PRB-NONE 不存在",
        "forbidden": "分中心管理员无权访问此页面",
        "logout": "退出",
        "closed": "曾通过审核并获得推荐，现已关闭",
        "pending": "审核通过后将显示推荐",
        "expert": "专家",
        "subcenter": "分中心管理员",
    },
    "en": {
        "comment_needed": "Write a comment to return the problem",
        "too_long": f"Too long: at most {LONG_TEXT_MAX} characters",
        "over": "10 characters over the limit",
        "missing": "Problem PRB-NONE does not exist",
        "forbidden": "The role “Sub-center admin” may not open this page",
        "logout": "Sign out",
        "closed": "was approved and had recommendations; it is now closed",
        "pending": "Recommendations appear once",
        "expert": "Expert",
        "subcenter": "Sub-center admin",
    },
}


def _open(visit, portal, name: str, lang: str, phone: bool, username: str):
    screen = "phone" if phone else "desktop"
    tab = visit(f"first-day-{name}-{lang}-{screen}", phone=phone)
    tab.page.context.add_cookies([{"name": "gp_lang", "value": lang, "url": portal["url"]}])
    tab.sign_in(username)
    return tab


def _menu(tab, phone: bool):
    """The header's menu, opened on a phone."""
    if phone:
        tab.page.click(".menu-toggle")
    return tab.page.locator("#nav")


@pytest.mark.parametrize(("lang", "phone"), SCREENS)
def test_returning_without_a_comment_keeps_the_queue_and_says_why(visit, portal, lang, phone):
    tab = _open(visit, portal, "return", lang, phone, "js-center")
    page = tab.page
    tab.go("/subcenter/review")
    item = page.locator(".review-item").first
    expect(item).to_be_visible()
    title = item.locator("h2 a").inner_text()
    item.locator("textarea").fill("   ")
    item.locator("button.return").click()
    item = page.locator(".review-item", has_text=title)
    expect(item.locator(".field-error")).to_have_text(TEXT[lang]["comment_needed"])
    expect(item.locator("textarea")).to_have_value("   ")
    expect(page.locator("#logout")).to_have_text(TEXT[lang]["logout"])
    expect(_menu(tab, phone).locator('a[href="/subcenter/review"]')).to_be_visible()
    tab.shot("return-needs-comment")


@pytest.mark.parametrize(("lang", "phone"), SCREENS)
def test_a_description_over_the_limit_is_counted_refused_and_kept(visit, portal, lang, phone):
    tab = _open(visit, portal, "limit", lang, phone, "ent-huachu")
    page = tab.page
    tab.go("/enterprise/problems/new")
    page.fill("#f-title", "铝壳焊接气孔")
    expect(page.locator("#f-title-count")).to_have_text("6 / 300")
    # Pasted past the limit: not cut off, the counter says by how much.
    description = "储" * (LONG_TEXT_MAX + 10)
    page.fill("#f-description", description)
    expect(page.locator("#f-description-count")).to_have_text(
        f"{LONG_TEXT_MAX + 10} / {LONG_TEXT_MAX}"
    )
    expect(page.locator("#f-description-count")).to_have_class("counter over")
    expect(page.locator("#f-description-error")).to_contain_text(TEXT[lang]["over"])
    tab.shot("counter-over-limit")
    page.click("#save-draft")
    expect(page.locator("#f-description-error")).to_contain_text(TEXT[lang]["too_long"])
    assert page.input_value("#f-description") == description
    expect(page.locator("#f-title")).to_have_value("铝壳焊接气孔")
    expect(page.locator("#logout")).to_be_visible()
    tab.shot("description-refused-text-kept")


@pytest.mark.parametrize(("lang", "phone"), SCREENS)
def test_error_pages_keep_the_signed_in_header_and_menu(visit, portal, lang, phone):
    tab = _open(visit, portal, "errors", lang, phone, "js-center")
    page = tab.page
    response = tab.go("/problems/PRB-NONE")
    assert response.status == 404
    expect(page.locator("#error-message")).to_have_text(TEXT[lang]["missing"])
    expect(page.locator(".user")).to_contain_text("js-center")
    expect(_menu(tab, phone).locator('a[href="/stats"]')).to_be_visible()
    tab.shot("not-found-signed-in")
    response = tab.go("/admin/users")
    assert response.status == 403
    expect(page.locator("#error-message")).to_have_text(TEXT[lang]["forbidden"])
    assert "subcenter_admin" not in page.locator("main").inner_text()
    expect(page.locator("#logout")).to_be_visible()
    tab.shot("forbidden-signed-in")


@pytest.mark.parametrize(("lang", "phone"), SCREENS)
def test_a_role_change_asks_first_and_cancelling_changes_nothing(visit, portal, lang, phone):
    tab = _open(visit, portal, "role", lang, phone, "admin")
    page = tab.page
    tab.go("/admin/users")
    row = page.locator("#users tbody tr", has_text="exp-zhouming")
    row.locator("select[name=role]").select_option("subcenter_admin")
    row.locator("select[name=region]").select_option("江苏省")
    row.locator("button").click()
    change = page.locator("#confirm-role")
    expect(change.locator(".was")).to_have_text(TEXT[lang]["expert"])
    expect(change.locator(".now")).to_have_text(TEXT[lang]["subcenter"])
    tab.shot("role-change-confirm")
    page.click("#confirm-cancel")
    row = page.locator("#users tbody tr", has_text="exp-zhouming")
    expect(row.locator("select[name=role]")).to_have_value("expert")


@pytest.mark.parametrize(("lang", "phone"), SCREENS)
def test_a_closed_problem_says_it_is_closed(visit, portal, lang, phone):
    tab = _open(visit, portal, "closed", lang, phone, "admin")
    page = tab.page
    tab.go(f"/problems/{portal['ids']['PRB-024']}")
    expect(page.locator("#status-note")).to_contain_text(TEXT[lang]["closed"])
    assert TEXT[lang]["pending"] not in page.locator("main").inner_text()
    expect(page.locator("#recommendations")).to_have_count(0)
    tab.shot("closed-problem")
