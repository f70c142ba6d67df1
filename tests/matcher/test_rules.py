"""Matching rules: approved only, conflicts, capacity, declined pairs, confidentiality."""

from __future__ import annotations

import pytest

from greenplat.core.errors import Forbidden, InvalidInput, NotFound
from greenplat.core.permissions import SYSTEM


def expert_ids(page) -> list[int]:
    return [item.id for item in page.items]


def ranked_ids(matcher, mconn, problem_id: int) -> list[int]:
    """Experts ranked for a problem with the relevance bar lifted: the rules alone decide."""
    return expert_ids(
        matcher.problem_experts(problem_id, page_size=50, bar=False, principal=SYSTEM, conn=mconn)
    )


def test_problem_experts_ranks_the_fitting_expert_first(mconn, matcher, world):
    page = matcher.problem_experts(world.problems["water"], principal=SYSTEM, conn=mconn)
    assert page.items[0].id == world.experts["water"]
    scores = [item.score for item in page.items]
    assert scores == sorted(scores, reverse=True)


def test_expert_known_only_by_papers_is_matched(mconn, matcher, world):
    page = matcher.problem_experts(world.problems["battery"], conn=mconn, principal=SYSTEM)
    assert world.experts["papers_only"] in expert_ids(page)


def test_conflict_of_interest_excludes_experts_of_the_problems_organization(mconn, matcher, world):
    ranked = ranked_ids(matcher, mconn, world.problems["battery"])
    assert world.experts["insider"] not in ranked
    assert world.experts["battery"] in ranked
    # The same expert is fine for another enterprise's battery problem.
    other = ranked_ids(matcher, mconn, world.problems["other"])
    assert world.experts["insider"] in other


def test_expert_at_capacity_is_ranked_out_until_a_request_closes(
    mconn, matcher, world, add_feedback, match_db
):
    busy = world.experts["busy"]
    assert busy in ranked_ids(matcher, mconn, world.problems["battery"])
    add_feedback(world.problems["other"], busy, "interested")  # capacity 1: now full
    assert busy not in ranked_ids(matcher, mconn, world.problems["battery"])
    # Still shown for the problem they are already working on.
    assert busy in ranked_ids(matcher, mconn, world.problems["other"])
    with match_db.session() as conn:
        conn.execute(
            "UPDATE problems SET status = 'closed' WHERE id = %s", (world.problems["other"],)
        )
    try:
        ranked = ranked_ids(matcher, mconn, world.problems["battery"])
        assert busy in ranked
    finally:
        with match_db.session() as conn:
            conn.execute(
                "UPDATE problems SET status = 'approved' WHERE id = %s", (world.problems["other"],)
            )


def test_an_experts_load_lowers_their_score_before_capacity_rules_them_out(
    mconn, matcher, world, add_feedback, match_db
):
    battery, expert = world.problems["battery"], world.experts["battery"]

    def score() -> float:
        page = matcher.problem_experts(
            battery, page_size=50, bar=False, principal=SYSTEM, conn=mconn
        )
        return next(item.score for item in page.items if item.id == expert)

    idle = score()
    add_feedback(world.problems["other"], expert, "interested")  # 1 of 5 taken
    try:
        assert score() < idle
    finally:
        with match_db.session() as conn:
            conn.execute(
                "DELETE FROM match_feedback WHERE problem_id = %s AND expert_id = %s",
                (world.problems["other"], expert),
            )
    assert score() == pytest.approx(idle)


def test_declined_pair_is_never_recommended_again(mconn, matcher, world, add_feedback):
    problem, expert = world.problems["battery"], world.experts["battery"]
    assert expert in ranked_ids(matcher, mconn, problem)
    add_feedback(problem, expert, "declined", "not our field")
    assert expert not in ranked_ids(matcher, mconn, problem)
    inbox = matcher.expert_problems(expert, page_size=50, bar=False, principal=SYSTEM, conn=mconn)
    assert problem not in [item.id for item in inbox.items]
    assert (
        matcher.affinity([("E-battery", "P-battery")], conn=mconn)[0] is not None
    )  # scoring still works


def test_only_approved_problems_are_matched(mconn, matcher, world):
    with pytest.raises(InvalidInput) as raised:
        matcher.problem_experts(world.problems["draft"], conn=mconn, principal=SYSTEM)
    assert raised.value.field == "status"
    inbox = matcher.expert_problems(
        world.experts["battery"], page_size=50, bar=False, principal=SYSTEM, conn=mconn
    )
    assert world.problems["draft"] not in [item.id for item in inbox.items]
    assert world.problems["battery"] in [item.id for item in inbox.items]


def test_confidential_problem_reaches_an_inbox_only_with_its_public_summary(
    mconn, matcher, world, match_db
):
    expert = world.principals["battery"]
    secret = world.problems["secret"]

    def inbox():
        page = matcher.expert_problems(
            expert.expert_id, principal=expert, page_size=50, bar=False, conn=mconn
        )
        return {item.id: item for item in page.items}

    # No summary: left out, never a blank card (nor scored by its hidden text); staff, who
    # read it in full, see it.
    assert secret not in inbox()
    staff = matcher.expert_problems(expert.expert_id, principal=SYSTEM, page_size=50, conn=mconn)
    assert secret in [item.id for item in staff.items]
    summary = "A cell maker seeks help with silicon anodes in lithium-ion cells."
    with match_db.session() as conn:
        conn.execute("UPDATE problems SET public_summary = %s WHERE id = %s", (summary, secret))
    try:
        item = inbox()[secret]
    finally:
        with match_db.session() as conn:
            conn.execute("UPDATE problems SET public_summary = NULL WHERE id = %s", (secret,))
    assert item.redacted and item.record["public_summary"] == summary
    assert item.record["description"] is None
    text = " ".join(item.why).lower() + str(item.record).lower()
    for hidden in ("zephyrite", "swelling", "codename", "cracks"):
        assert hidden not in text
    assert any("confidential" in reason for reason in item.why)
    # The summary, which the expert reads, is what the reasons draw on.
    assert any(w in " ".join(item.why).lower() for w in ("silicon", "anode", "lithium"))


def test_confidential_problem_owner_sees_the_evidence(mconn, matcher, world):
    page = matcher.problem_experts(world.problems["secret"], conn=mconn, principal=SYSTEM)
    why = " ".join(page.items[0].why)
    assert "anode" in why.lower() or "silicon" in why.lower()
    assert not page.items[0].redacted


def test_free_text_search_hides_confidential_problems_from_other_readers(mconn, matcher, world):
    expert = world.principals["water"]
    page = matcher.search(
        "zephyrite silicon anode swelling", "problems", principal=expert, conn=mconn
    )
    assert world.problems["secret"] not in [item.id for item in page.items]
    admin = matcher.search(
        "zephyrite silicon anode swelling", "problems", conn=mconn, principal=SYSTEM
    )
    assert admin.items[0].id == world.problems["secret"]


def test_only_owner_and_staff_see_a_problems_matches(mconn, matcher, world):
    problem = world.problems["battery"]
    matcher.problem_experts(problem, principal=world.principals["acme"], conn=mconn)
    matcher.problem_experts(problem, principal=world.principals["subcenter"], conn=mconn)
    with pytest.raises(Forbidden):
        matcher.problem_experts(problem, principal=world.principals["blue"], conn=mconn)
    with pytest.raises(Forbidden):
        matcher.problem_experts(problem, principal=world.principals["battery"], conn=mconn)
    with pytest.raises(NotFound):
        matcher.problem_experts(
            world.problems["draft"], principal=world.principals["blue"], conn=mconn
        )


def test_an_expert_sees_only_its_own_inbox(mconn, matcher, world):
    battery = world.principals["battery"]
    matcher.expert_problems(battery.expert_id, principal=battery, conn=mconn)
    with pytest.raises(Forbidden):
        matcher.expert_problems(world.experts["water"], principal=battery, conn=mconn)
