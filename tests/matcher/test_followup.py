"""Follow-up lists: approved problems nobody answered, by waiting time, and the nudge."""

from __future__ import annotations

import pytest


@pytest.fixture
def aged(api, world, match_db):
    """Approved long ago: battery (江苏) 10 days, other (北京) 20 days, water (浙江) 2 days."""
    with match_db.session() as conn:
        for name, days in (("battery", 10), ("other", 20), ("water", 2)):
            conn.execute(
                "UPDATE problems SET approved_at = now() - make_interval(days => %s) WHERE id = %s",
                (days, world.problems[name]),
            )
    yield api
    with match_db.session() as conn:
        conn.execute("UPDATE problems SET approved_at = NULL")


def test_waiting_problems_are_listed_by_region_and_waiting_time(aged, world):
    client, auth = aged
    mine = client.get("/v1/matches/followup", headers=auth["subcenter"]).json()
    assert [r["id"] for r in mine] == [world.problems["battery"]]
    assert mine[0]["days_waiting"] >= 10
    everyone = client.get("/v1/matches/followup?days=1", headers=auth["admin"]).json()
    order = [world.problems[n] for n in ("other", "battery", "water")]
    assert [r["id"] for r in everyone if r["id"] in order] == order
    assert client.get("/v1/matches/followup", headers=auth["acme"]).status_code == 403
    answer = {
        "problem_id": world.problems["battery"],
        "expert_id": world.experts["battery"],
        "action": "declined",
        "reason": "busy",
    }
    assert (
        client.post("/v1/matches/feedback", json=answer, headers=auth["battery"]).status_code == 201
    )
    assert client.get("/v1/matches/followup", headers=auth["subcenter"]).json() == []


def test_a_nudge_reminds_the_recommended_experts(aged, world):
    client, auth = aged
    url = f"/v1/matches/followup/{world.problems['battery']}/nudge"
    response = client.post(url, headers=auth["subcenter"])
    assert response.status_code == 200 and response.json()["notified"] >= 1
    notes = client.get("/v1/notifications", headers=auth["battery"]).json()["items"]
    assert [n["text"] for n in notes] == ["「Lithium-ion battery packs overheat」仍在等待专家回应"]
    other = f"/v1/matches/followup/{world.problems['other']}/nudge"
    assert client.post(other, headers=auth["subcenter"]).status_code == 403
