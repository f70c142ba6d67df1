"""Problems: life cycle, review by the right sub-center, confidentiality, listing."""

from __future__ import annotations

import pytest

from greenplat.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemCreate, ProblemReview, ProblemUpdate


def _events(conn, principal, problem_id):
    return [
        (e.from_status, e.to_status, e.actor, e.comment)
        for e in problems.events(conn=conn, principal=principal, problem_id=problem_id)
    ]


@pytest.fixture
def people(world):
    return world.users


def _draft(conn, people, **fields):
    data = ProblemCreate(title="污水厂污泥减量", description="寻求低能耗污泥减量技术", **fields)
    return problems.create(conn=conn, principal=people["enterprise"], data=data)


def test_enterprise_creates_for_its_own_organization_and_region(conn, world, people):
    p = _draft(conn, people, organization="别人的公司")
    assert p.status == "draft"
    assert p.organization == world.org_a
    assert p.region == world.region_a
    assert p.owner_id == people["enterprise"].id
    assert p.external_id.startswith("P-")


def test_full_life_cycle_with_events(conn, people):
    ent, sub = people["enterprise"], people["subcenter_admin"]
    p = _draft(conn, people)
    p = problems.submit(conn=conn, principal=ent, problem_id=p.id)
    assert p.status == "submitted"
    p = problems.review(
        conn=conn,
        principal=sub,
        problem_id=p.id,
        data=ProblemReview(decision="return", comment="请补充预算"),
    )
    assert (p.status, p.review_comment) == ("returned", "请补充预算")
    p = problems.update(
        conn=conn, principal=ent, problem_id=p.id, data=ProblemUpdate(budget_wan=80)
    )
    assert p.budget_wan == 80
    problems.submit(conn=conn, principal=ent, problem_id=p.id)
    problems.review(
        conn=conn, principal=sub, problem_id=p.id, data=ProblemReview(decision="approve")
    )
    problems.mark_matched(conn=conn, principal=ent, problem_id=p.id)
    p = problems.close(conn=conn, principal=ent, problem_id=p.id)
    assert p.status == "closed"
    trail = _events(conn, ent, p.id)
    assert [(f, t) for f, t, _, _ in trail] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
        ("approved", "matched"),
        ("matched", "closed"),
    ]
    assert trail[2][2:] == (sub.username, "请补充预算")
    outbox = conn.execute(
        "SELECT count(*) AS n FROM outbox WHERE library = 'problems' AND record_id = %s", (p.id,)
    ).fetchone()["n"]
    assert outbox >= 7


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "approve"),
        ("draft", "close"),
        ("submitted", "submit"),
        ("approved", "submit"),
        ("closed", "match"),
        ("returned", "approve"),
    ],
)
def test_illegal_transitions_are_conflicts_with_a_clear_message(conn, world, build, status, action):
    row = build.problem(conn, region=world.region_a, status=status)
    with pytest.raises(InvalidTransition) as caught:
        problems.transition(
            conn=conn, principal=world.users["platform_admin"], problem_id=row["id"], action=action
        )
    assert caught.value.status == 409
    assert status in caught.value.message
    assert (
        conn.execute("SELECT status FROM problems WHERE id = %s", (row["id"],)).fetchone()["status"]
        == status
    )


def test_return_needs_a_comment(conn, world, build):
    row = build.problem(conn, region=world.region_a, status="submitted")
    with pytest.raises(InvalidInput) as caught:
        problems.review(
            conn=conn,
            principal=world.users["subcenter_admin"],
            problem_id=row["id"],
            data=ProblemReview(decision="return"),
        )
    assert caught.value.field == "comment"


def test_subcenter_reviews_only_its_region(conn, world, build):
    row = build.problem(conn, region=world.region_a, status="submitted")
    with pytest.raises((Forbidden, NotFound)):
        problems.review(
            conn=conn,
            principal=world.users["subcenter_b"],
            problem_id=row["id"],
            data=ProblemReview(decision="approve"),
        )


def test_enterprise_cannot_edit_after_submission(conn, people):
    p = _draft(conn, people)
    problems.submit(conn=conn, principal=people["enterprise"], problem_id=p.id)
    with pytest.raises(InvalidTransition):
        problems.update(
            conn=conn,
            principal=people["enterprise"],
            problem_id=p.id,
            data=ProblemUpdate(title="改"),
        )


def test_another_enterprise_cannot_touch_it(conn, people):
    p = _draft(conn, people)
    with pytest.raises(NotFound):
        problems.update(
            conn=conn,
            principal=people["enterprise2"],
            problem_id=p.id,
            data=ProblemUpdate(title="x"),
        )


def test_experts_see_only_published_problems(conn, world, build):
    expert = world.users["expert"]
    statuses = ("draft", "submitted", "approved", "returned", "matched", "closed")
    rows = {
        s: build.problem(conn, region=world.region_b, title=f"唯一{world.tag}", status=s)
        for s in statuses
    }
    seen = problems.list(conn=conn, principal=expert, q=f"唯一{world.tag}", page_size=100)
    assert {p.status for p in seen.items} == {"approved", "matched", "closed"}
    assert problems.get(conn=conn, principal=expert, problem_id=rows["draft"]["id"]) is None


def test_confidential_problem_is_redacted_for_outsiders(conn, world, build):
    ent = world.users["enterprise"]
    row = build.problem(
        conn,
        region=world.region_a,
        organization=world.org_a,
        owner=ent,
        status="approved",
        confidential=True,
        description="机密工艺参数：窑温 1450℃",
        extra_note="内部",
    )
    for who in ("enterprise", "subcenter_admin", "platform_admin"):
        full = problems.get_or_raise(conn=conn, principal=world.users[who], problem_id=row["id"])
        assert not full.redacted and full.description.startswith("机密")
        assert full.budget_wan == 50 and full.keywords
    with pytest.raises(NotFound):  # another region's sub-center does not read it at all
        problems.get_or_raise(conn=conn, principal=world.users["subcenter_b"], problem_id=row["id"])
    for who in ("expert", "enterprise2"):
        seen = problems.get_or_raise(conn=conn, principal=world.users[who], problem_id=row["id"])
        assert seen.redacted
        assert seen.title == row["title"] and seen.region == world.region_a
        assert seen.industry == row["industry"]
        assert seen.description is None and seen.keywords == []
        assert seen.organization is None and seen.budget_wan is None and seen.extra == {}


def test_list_filters_sorts_and_pages(conn, world, build):
    tag = f"排序{world.tag}"
    for i, budget in enumerate((30, 10, 20)):
        build.problem(
            conn, region=world.region_a, title=f"{tag}-{i}", industry="化工", budget_wan=budget
        )
    admin = world.users["platform_admin"]
    page = problems.list(conn=conn, principal=admin, q=tag, industry="化工", sort="-budget_wan")
    assert [p.budget_wan for p in page.items] == [30, 20, 10]
    assert page.total == 3
    second = problems.list(
        conn=conn, principal=admin, q=tag, sort="budget_wan", page=2, page_size=2
    )
    assert [p.budget_wan for p in second.items] == [30] and second.total == 3
    assert problems.list(conn=conn, principal=admin, q=tag, industry="冶金").total == 0
    with pytest.raises(InvalidInput) as caught:
        problems.list(conn=conn, principal=admin, sort="password_hash")
    assert caught.value.field == "sort"


def test_keyword_search_escapes_wildcards(conn, world, build):
    build.problem(conn, region=world.region_a, title=f"100%回收{world.tag}")
    build.problem(conn, region=world.region_a, title=f"100X回收{world.tag}")
    admin = world.users["platform_admin"]
    found = problems.list(conn=conn, principal=admin, q=f"100%回收{world.tag}")
    assert found.total == 1


def test_create_refuses_an_existing_external_id(conn, world, build, people):
    row = build.problem(conn, region=world.region_a)
    with pytest.raises(Conflict) as caught:
        _draft(conn, people, external_id=row["external_id"])
    assert caught.value.field == "external_id"


def test_delete_records_an_outbox_delete(conn, people):
    p = _draft(conn, people)
    problems.delete(conn=conn, principal=people["enterprise"], problem_id=p.id)
    assert problems.get(conn=conn, principal=people["platform_admin"], problem_id=p.id) is None
    ops = [
        r["op"]
        for r in conn.execute(
            "SELECT op FROM outbox WHERE library='problems' AND record_id=%s ORDER BY id", (p.id,)
        )
    ]
    assert ops[-1] == "delete"
