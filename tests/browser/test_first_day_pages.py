"""The portal's first day in Chromium, desktop (1280×900) and phone (390×844), zh and en:
achievements edited and withdrawn, import templates and the error report, badges and charts
that read on a phone, the favicon, and axe-core finding no critical issue on each role's pages.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from importlib import resources

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Each role's main pages (visitor: signed out).
ROLE_PAGES = {
    "visitor": (None, ["/", "/login", "/signup"]),
    "enterprise": (
        "ent-huachu",
        ["/enterprise/problems", "/enterprise/problems/new", "/search", "/notifications"],
    ),
    "expert": (
        "exp-wangjianguo",
        ["/expert/inbox", "/expert/invitations", "/expert/profile", "/expert/achievements"],
    ),
    "subcenter": ("js-center", ["/subcenter/review", "/stats", "/subcenter/followup"]),
    "admin": (
        "admin",
        ["/admin/dashboard", "/admin/users", "/admin/regions", "/admin/import", "/exports"],
    ),
}
# Every piece of text on a page is at least this big, as rendered.
MIN_TEXT_PX = 11


def _axe_source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def _axe(page) -> list[dict]:
    """axe-core's violations on the page as it stands (evaluated through the DevTools
    protocol, which the page's Content-Security-Policy does not govern)."""
    page.evaluate(_axe_source())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]


def _smallest_text(page) -> list[dict]:
    """Visible elements holding text directly, whose rendered text is under MIN_TEXT_PX
    (SVG text scaled by its viewBox as drawn)."""
    return page.evaluate(
        """(limit) => {
          const small = [];
          for (const el of document.querySelectorAll('body *')) {
            const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (!own) continue;
            const box = el.getBoundingClientRect();
            if (!box.width || !box.height) continue;
            let size = parseFloat(getComputedStyle(el).fontSize);
            const svg = el.closest('svg');
            if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
              size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            }
            const text = el.textContent.trim().slice(0, 30);
            if (size < limit) small.push({tag: el.tagName, text, size});
          }
          return small;
        }""",
        MIN_TEXT_PX,
    )


def test_expert_edits_then_withdraws_an_achievement(visit):
    tab = visit("firstday-expert")
    page = tab.page
    page.on("dialog", lambda dialog: dialog.accept())
    tab.sign_in("exp-wangjianguo")
    page.click("nav >> text=我的成果")
    expect(page.locator("h1")).to_have_text("我的成果")
    title = f"锂电池极片涂布缺陷视觉检测{uuid.uuid4().hex[:6]}"
    page.fill("#f-title", title)
    page.fill("#f-abstract", "以线阵相机与深度学习检测涂布划痕、气泡与漏箔。")
    page.click("#add-achievement")
    expect(page.locator(".flash")).to_have_text("成果已添加。")
    row = page.locator("#my-achievements tr", has_text=title)
    row.locator("a.button", has_text="修改").click()
    expect(page.locator("h1")).to_have_text("修改")
    tab.shot("edit-achievement")
    page.fill("#f-title", f"{title}（二版）")
    page.select_option("#f-kind", "software")
    page.click("#save-achievement")
    expect(page.locator(".flash")).to_have_text("成果已保存。")
    row = page.locator("#my-achievements tr", has_text=f"{title}（二版）")
    expect(row).to_contain_text("软件")
    tab.shot("achievement-saved")
    row.locator("button", has_text="撤回").click()
    expect(page.locator(".flash")).to_have_text("成果已撤回。")
    expect(page.locator("#my-achievements")).not_to_contain_text(title)
    expect(page.locator("#withdrawn-achievements")).to_contain_text(f"{title}（二版）")
    tab.shot("achievement-withdrawn")
    # Search no longer finds it (the outbox re-indexed it away).
    tab.go(f"/search?library=achievements&q={title}")
    expect(page.locator("main")).not_to_contain_text(f"{title}（二版）")

    # The same in English, on a phone: the heading, the flash, the withdrawn list.
    phone = visit("firstday-expert-phone-en", phone=True)
    phone.page.on("dialog", lambda dialog: dialog.accept())
    phone.sign_in("exp-wangjianguo")
    phone.page.click("#lang-switch")
    phone.go("/expert/achievements")
    expect(phone.page.locator("h1")).to_have_text("My achievements")
    item = phone.page.locator("#withdrawn-achievements li", has_text=f"{title}（二版）")
    expect(item).to_contain_text("Withdrawn")
    phone.shot("withdrawn-list")
    item.locator("button", has_text="Publish again").click()
    expect(phone.page.locator(".flash")).to_have_text("Achievement published again.")
    expect(phone.page.locator("#my-achievements")).to_contain_text(f"{title}（二版）")
    phone.shot("restored")


def test_achievements_are_headed_with_whose_they_are(visit):
    own = visit("firstday-heading-own")
    own.sign_in("exp-wangjianguo")
    own.page.click("nav >> text=我的成果")
    own.page.locator("#my-achievements tbody a").first.click()
    own.page.locator("main a", has_text="王建国").first.click()
    expect(own.page.locator("#expert-achievements h2")).to_have_text("我的成果")
    profile = own.page.url

    tab = visit("firstday-heading")
    page = tab.page
    tab.sign_in("exp-zhouming")
    page.goto(profile)
    expect(page.locator("#expert-achievements h2")).to_have_text("王建国的成果")
    tab.shot("other-expert-heading")
    page.click("#lang-switch")
    expect(page.locator("#expert-achievements h2")).to_have_text("Achievements of 王建国")


def test_templates_download_chinese_headers_import_and_the_report_downloads(visit, tmp_path):
    tab = visit("firstday-import")
    page = tab.page
    tab.sign_in("exp-wangjianguo")
    page.click("nav >> text=我的成果")
    with page.expect_download() as download:
        page.click("#template-achievements-xlsx")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    header = [c.value for c in book.worksheets[0][1]]
    assert header[:3] == ["external_id", "title", "abstract"] and "expert_ids" in header
    with page.expect_download() as download:
        page.click("#template-achievements-csv")
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert next(csv.reader(io.StringIO(text)))[:3] == ["external_id", "title", "abstract"]

    good = f"ZH-{uuid.uuid4().hex[:8]}"
    listing = tmp_path / "中文表头成果.csv"
    listing.write_text(
        "外部编号,标题,摘要,关键词,类型,年份\n"
        f"{good},中文表头导入的成果,摘要写在这里,涂布;检测,paper,2024\n"
        f"ZH-{uuid.uuid4().hex[:8]},缺摘要的成果,,检测,paper,2023\n"
        f"ZH-{uuid.uuid4().hex[:8]},年份不对,摘要,,paper,1200\n",
        encoding="utf-8",
    )
    page.set_input_files("#f-file", str(listing))
    page.click("#import-achievements")
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    expect(page.locator("#created")).to_have_text("1")
    expect(page.locator("#rejected")).to_have_text("2")
    tab.shot("chinese-headers-imported")
    with page.expect_download() as download:
        page.click("#report-csv")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["行号", "字段", "原因"]
    assert [r[:2] for r in rows[1:]] == [["3", "摘要"], ["4", "年份"]]
    assert "缺摘要的成果" in rows[1] and "1200" in rows[2]
    page.click("#lang-switch")
    with page.expect_download() as download:
        page.click("#report-xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["row", "field", "reason"]
    assert [c.value for c in sheet[2]][:3] == [3, "Abstract", "abstract: required"]
    tab.shot("report-english")
    page.click("nav >> text=My achievements")
    expect(page.locator("#my-achievements")).to_contain_text("中文表头导入的成果")


def test_phone_badges_stay_on_one_line_and_charts_read(visit):
    tab = visit("firstday-phone", phone=True)
    page = tab.page
    tab.sign_in("ent-huachu")
    badges = page.locator("main .status")
    expect(badges.first).to_be_visible()
    heights = page.evaluate(
        """() => [...document.querySelectorAll('main .status')].map(b => {
             const line = parseFloat(getComputedStyle(b).lineHeight);
             return {text: b.textContent, height: b.getBoundingClientRect().height, line};
           })"""
    )
    assert heights and all(h["height"] < h["line"] * 1.5 for h in heights), heights
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _smallest_text(page) == []
    tab.shot("badges-one-line")

    center = visit("firstday-phone-stats", phone=True)
    center.sign_in("js-center")
    center.go("/stats")
    cpage = center.page
    expect(cpage.locator("svg.chart").first).to_be_visible()
    sizes = cpage.evaluate(
        """() => [...document.querySelectorAll('svg.chart text')].map(t => {
             const svg = t.closest('svg');
             const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
             return parseFloat(getComputedStyle(t).fontSize) * scale;
           })"""
    )
    assert sizes and min(sizes) >= MIN_TEXT_PX, min(sizes)
    assert _smallest_text(cpage) == []
    assert cpage.evaluate("document.documentElement.scrollWidth") <= 390
    # Every month of the period, empty ones as zeros, in the table beside the month chart.
    table = cpage.locator("details.chart-table").first
    table.locator("summary").click()
    months = table.locator('tbody th[scope="row"]').all_inner_texts()
    indexes = [int(m[:4]) * 12 + int(m[5:7]) for m in months]
    assert len(months) >= 2 and indexes == list(range(indexes[0], indexes[0] + len(months)))
    center.shot("stats-charts-and-table")
    center.page.click("#lang-switch")
    expect(cpage.locator("details.chart-table summary").first).to_have_text(
        "Show the numbers as a table"
    )
    center.shot("stats-english")


def test_favicon_is_served(visit, portal):
    tab = visit("firstday-favicon")
    response = tab.page.request.get(portal["url"] + "/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/x-icon"
    tab.go("/login")
    assert tab.page.locator('link[rel="icon"]').count() == 2


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_axe_finds_no_critical_issue(visit, role):
    username, paths = ROLE_PAGES[role]
    found: dict[str, list[str]] = {}
    for phone in (False, True):
        tab = visit(f"firstday-axe-{role}{'-phone' if phone else ''}", phone=phone)
        if username:
            tab.sign_in(username)
        for path in paths:
            tab.go(path)
            for violation in _axe(tab.page):
                if violation["impact"] == "critical":
                    targets = [n["target"] for n in violation["nodes"]][:3]
                    found.setdefault(path, []).append(f"{violation['id']}: {targets}")
        tab.shot("last-page")
    assert found == {}
