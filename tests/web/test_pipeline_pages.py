"""The pipeline in the portal: each expert once with its stage, only the actions that fit."""

from __future__ import annotations

import pytest


@pytest.fixture
def problem(db, world, build):
    """An approved problem of the world's enterprise, in region A."""
    with db.session() as conn:
        return build.problem(
            conn,
            region=world.region_a,
            organization=world.org_a,
            owner=world.users["enterprise"],
            title="窑炉烟气余热回收方案",
        )


@pytest.fixture
def work(db, world, build, platform):
    """An indexed achievement of the world's expert on the problem's topic; removed after."""
    with db.session() as conn:
        row = build.achievement(
            conn,
            expert_ids=[world.expert_a],
            title="窑炉烟气余热回收与有机朗肯循环发电",
            abstract="回收窑炉 300℃ 高温烟气余热，余热锅炉加有机朗肯循环发电，降低能耗。",
        )
        platform.indexer.index_records(conn, {"achievements": [row["id"]]})
    yield row
    with db.session() as conn:
        conn.execute("DELETE FROM achievements WHERE id = %s", (row["id"],))
        platform.indexer.index_records(conn, {"achievements": [row["id"]]})


def _post(client, csrf_of, url, **data):
    return client.post(url, data={"csrf": csrf_of(client), **data}, follow_redirects=False)


def _actions(db, problem_id):
    with db.session() as conn:
        rows = conn.execute(
            "SELECT action FROM match_feedback WHERE problem_id = %s ORDER BY id", (problem_id,)
        ).fetchall()
    return [r["action"] for r in rows]


def test_the_problem_page_shows_each_expert_once_with_only_the_next_actions(
    browser_as, csrf_of, db, world, problem
):
    owner, expert = browser_as("enterprise"), browser_as("expert")
    pid, px, ex = problem["id"], problem["external_id"], world.expert_a
    invite = _post(owner, csrf_of, f"/problems/{px}/invite", expert_id=ex, note="请看看这个")
    assert invite.status_code == 303
    assert "请看看这个" in expert.get("/expert/invitations").text
    answer = _post(
        expert,
        csrf_of,
        f"/expert/respond/{px}",
        action="interested",
        proposal_approach="余热锅炉加有机朗肯循环",
        proposal_timeframe="6 个月",
        proposal_cost="80 万元",
    )
    assert answer.status_code == 303
    assert (
        _post(
            owner, csrf_of, f"/problems/{px}/feedback", expert_id=ex, action="contacted"
        ).status_code
        == 303
    )
    page = owner.get(f"/problems/{px}").text
    assert page.count(f'id="pair-{ex}"') == 1
    assert "余热锅炉加有机朗肯循环" in page and "6 个月" in page
    assert 'value="contacted"' not in page  # already done: no longer offered
    assert 'value="negotiating"' in page and 'value="deal"' in page
    again = _post(owner, csrf_of, f"/problems/{px}/feedback", expert_id=ex, action="contacted")
    assert again.status_code == 409
    deal = _post(
        owner,
        csrf_of,
        f"/problems/{px}/feedback",
        expert_id=ex,
        action="deal",
        contract_kind="development",
        amount_wan="50",
        deal_date="2026-11-30",
    )
    assert deal.status_code == 303
    assert _actions(db, pid) == ["invited", "interested", "contacted", "deal"]
    with db.session() as conn:
        row = conn.execute("SELECT status FROM problems WHERE id = %s", (pid,)).fetchone()
    assert row["status"] == "matched"


def test_the_enterprise_cannot_skip_the_experts_answer_in_the_portal(
    browser_as, csrf_of, db, world, problem
):
    owner = browser_as("enterprise")
    pid, px, ex = problem["id"], problem["external_id"], world.expert_a
    deal = _post(
        owner,
        csrf_of,
        f"/problems/{px}/feedback",
        expert_id=ex,
        action="deal",
        contract_kind="development",
    )
    assert deal.status_code == 409
    forged = _post(owner, csrf_of, f"/problems/{px}/feedback", expert_id=ex, action="interested")
    assert forged.status_code == 403
    assert _actions(db, pid) == []


def test_a_long_decline_reason_is_reported_too_long_not_missing(browser_as, csrf_of, db, problem):
    expert = browser_as("expert")
    url = f"/expert/respond/{problem['external_id']}"
    long = _post(expert, csrf_of, url, action="declined", reason="太忙" * 1001)
    assert long.status_code == 422
    assert "内容过长：最多 2000 个字符，现有 2002 个" in long.text
    assert "婉拒时须填写理由" not in long.text
    blank = _post(expert, csrf_of, url, action="declined", reason="  ")
    assert blank.status_code == 422 and "婉拒时须填写理由" in blank.text
    assert _actions(db, problem["id"]) == []


def _row(page: str, expert_id: str) -> str:
    start = page.index(f'id="pair-{expert_id}"')
    return page[start : page.index('class="history"', start)]


def test_the_enterprise_sees_the_experts_fit_beside_the_proposal(
    browser_as, csrf_of, world, problem, work
):
    owner, expert = browser_as("enterprise"), browser_as("expert")
    px, ex = problem["external_id"], world.expert_a
    assert _post(owner, csrf_of, f"/problems/{px}/invite", expert_id=ex).status_code == 303
    answer = _post(
        expert,
        csrf_of,
        f"/expert/respond/{px}",
        action="interested",
        proposal_approach="余热锅炉加有机朗肯循环",
        proposal_timeframe="6 个月",
        proposal_cost="80 万元",
    )
    assert answer.status_code == 303
    row = _row(owner.get(f"/problems/{px}").text, ex)
    assert "余热锅炉加有机朗肯循环" in row and "80 万元" in row
    shown = [text for text in ("高度匹配", "较匹配", "可能相关") if f">{text}</span>" in row]
    assert len(shown) == 1, row
    assert "未达匹配标准" not in row


def test_an_expert_without_fitting_works_is_shown_below_the_bar(
    browser_as, csrf_of, world, problem
):
    owner = browser_as("enterprise")
    px, ex = problem["external_id"], world.expert_a
    assert _post(owner, csrf_of, f"/problems/{px}/invite", expert_id=ex).status_code == 303
    owner.cookies.set("gp_lang", "en")
    row = _row(owner.get(f"/problems/{px}").text, ex)
    assert ">Below the bar</span>" in row
