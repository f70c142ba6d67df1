"""The whole loop in a real browser with real e-mail on loopback: post, approve, notify, answer
with a proposal, contact details, messages, a deal, and the sub-center's dashboard counting it."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
SLOW_MS = 300_000
TITLE = "高镍三元正极单晶化后循环衰减快"
DESCRIPTION = (
    "我们量产 NCM811 高镍三元正极材料，单晶正极在高电压循环后表面副反应严重、容量衰减快，"
    "希望通过表面包覆与体相掺杂提升锂离子电池正极材料的循环寿命，并可千吨级量产。"
)


def _wait_for_mail(mail, address: str, text: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mail.to(address) if text in m["Subject"]]
        if found:
            return found[0]
        time.sleep(0.5)
    subjects = [(m["To"], m["Subject"]) for m in mail.messages]
    pytest.fail(f"no e-mail to {address} about {text!r}; received {subjects}")


def _settings(tab, email: str) -> None:
    tab.page.click("#account-settings")  # the account page, which links its settings
    tab.page.click("#notification-settings")
    tab.page.fill("#f-email", email)
    tab.page.click("#save-settings")
    expect(tab.page.locator(".flash")).to_have_text("设置已保存。")


def _kpi(page, name: str) -> float:
    return float(page.locator(f"#kpi-{name}").inner_text())


def test_the_whole_loop_with_real_e_mail(visit, portal):
    mail, tag = portal["mail"], uuid.uuid4().hex[:6]
    owner_mail, expert_mail = f"huachu-{tag}@example.test", f"wang-{tag}@example.test"
    center = visit("loop-center")
    center.sign_in("js-center")
    center.go("/stats")
    deals, value = _kpi(center.page, "deals"), _kpi(center.page, "deal-value")

    # The enterprise gives its e-mail and posts a problem.
    ent = visit("loop-enterprise")
    ent.sign_in("ent-huachu")
    _settings(ent, owner_mail)
    ent.go("/enterprise/problems/new")
    ent.page.fill("#f-title", TITLE)
    ent.page.fill("#f-description", DESCRIPTION)
    ent.page.fill("#f-keywords", "高镍三元正极；单晶正极；表面包覆；体相掺杂")
    ent.page.click("#submit-problem")
    expect(ent.page.locator("#problem-title .status")).to_have_text("待审核")
    problem_id = re.search(r"/problems/(P-[0-9a-f]+)", ent.page.url)[1]
    ent.shot("posted")

    expert = visit("loop-expert")
    expert.sign_in("exp-wangjianguo")
    _settings(expert, expert_mail)

    # The sub-center sees it waiting, and approves it.
    center.go("/subcenter/review")
    item = center.page.locator(f"#p{problem_id}")
    expect(item.locator(".waited")).to_contain_text("已等待")
    item.locator("button.approve").click()
    expect(center.page.locator(".flash")).to_have_text("已通过审核。")

    # The enterprise gets the notice in the portal and by e-mail.
    approved = f"你的需求「{TITLE}」已通过审核"
    _wait_for_mail(mail, owner_mail, approved)
    ent.go("/enterprise/problems")
    expect(ent.page.locator("#unread-badge")).to_be_visible()
    ent.page.click("#notifications")
    expect(ent.page.locator("#notification-list")).to_contain_text(approved)
    ent.shot("approval-notice")
    ent.page.click("#read-all")
    expect(ent.page.locator("#unread-badge")).to_have_count(0)

    # The top expert hears of it and says 有意向 with a proposal.
    expert.go("/notifications")
    expect(expert.page.locator("#notification-list")).to_contain_text(f"新的推荐需求：{TITLE}")
    expert.page.locator(".notification", has_text=TITLE).locator("button").click()
    expect(expert.page).to_have_url(re.compile(rf"/expert/inbox#p{problem_id}$"))
    card = expert.page.locator(f"#p{problem_id}")
    card.locator("details.interest summary").click()
    card.locator("textarea[name=proposal_approach]").fill("Al/Zr 共掺杂加 Li3PO4 表面包覆")
    card.locator("input[name=proposal_timeframe]").fill("6 个月")
    card.locator("input[name=proposal_cost]").fill("50 万元")
    expert.shot("proposal")
    card.locator("button.send-interest").click()
    expect(expert.page.locator(".flash")).to_contain_text("已表示有意向")

    # The enterprise sees the badge, the proposal and the expert's contact details.
    _wait_for_mail(mail, owner_mail, "有意向")
    ent.go("/enterprise/problems")
    expect(ent.page.locator("#unread-badge")).to_have_text("1")
    ent.page.click("#notifications")
    ent.page.locator(".notification.unread", has_text="有意向").locator("button").click()
    pair = ent.page.locator(".pipeline-row", has_text="王建国")
    expect(pair.locator(".stage")).to_have_text("有意向")
    expect(pair.locator(".proposal")).to_contain_text("Al/Zr 共掺杂加 Li3PO4 表面包覆")
    expect(pair.locator(".contacts")).to_contain_text(expert_mail)
    ent.shot("proposal-and-contacts")

    # A message, and the expert's answer.
    pair.locator("a.open-thread").click()
    ent.page.fill("#message-body", "王教授您好，能否下周来厂里看一下产线？")
    ent.page.click("#send-message")
    expect(ent.page.locator("#thread")).to_contain_text("能否下周来厂里")
    expert.go("/notifications")
    expert.page.locator(".notification.unread", has_text="新消息").locator("button").click()
    expect(expert.page.locator("#thread")).to_contain_text("能否下周来厂里")
    expert.page.fill("#message-body", "可以，周三上午到。")
    expert.page.click("#send-message")
    expect(expert.page.locator("#thread")).to_contain_text("周三上午到")
    expert.shot("thread")
    ent.page.reload()
    expect(ent.page.locator("#thread")).to_contain_text("周三上午到")

    # The enterprise records a deal of 技术开发 50 万元.
    ent.go(f"/problems/{problem_id}")
    pair = ent.page.locator(".pipeline-row", has_text="王建国")
    pair.locator("details.deal summary").click()
    deal = pair.locator("form.deal-form")
    deal.locator("select[name=contract_kind]").select_option("development")
    deal.locator("input[name=amount_wan]").fill("50")
    # A deal cannot be taken back: the page asks first.
    ent.page.once("dialog", lambda dialog: dialog.accept())
    deal.locator("button.do-deal").click()
    expect(ent.page.locator(".flash")).to_have_text("已记录成交。")
    expect(ent.page.locator("#problem-title .status")).to_have_text("已匹配")
    ent.shot("deal")

    # The sub-center's dashboard counts it.
    center.go("/stats")
    assert _kpi(center.page, "deals") == deals + 1
    assert _kpi(center.page, "deal-value") == value + 50
    center.shot("dashboard-counts-the-deal")
