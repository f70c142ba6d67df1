"""Low items of issue 9: a 500 on null keywords, ids revealed by 403 vs 404."""

from __future__ import annotations

import re

PROBLEM = {
    "title": "印染废水深度脱色",
    "description": "现有芬顿工艺药耗高，出水色度不稳定，寻求低成本深度处理技术。",
    "keywords": ["印染废水", "脱色"],
}


def test_null_keywords_are_a_422_naming_the_field_not_a_500(client, tokens):
    made = client.post("/v1/problems", json=PROBLEM, headers=tokens["enterprise"])
    assert made.status_code == 201
    pid = made.json()["id"]
    response = client.patch(
        f"/v1/problems/{pid}", json={"keywords": None}, headers=tokens["enterprise"]
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "keywords"
    kept = client.get(f"/v1/problems/{pid}", headers=tokens["enterprise"]).json()
    assert kept["keywords"] == PROBLEM["keywords"]


def test_assignment_does_not_tell_which_problem_ids_exist(client, tokens, db, world, build):
    with db.session() as conn:
        other_region = build.problem(conn, region=world.region_a)["id"]
        expert = conn.execute(
            "SELECT id FROM experts WHERE external_id = %s", (world.expert_b,)
        ).fetchone()["id"]
    missing = other_region + 10_000_000
    answers = []
    for pid in (other_region, missing):
        body = {"problem_ids": [pid], "expert_ids": [expert], "k": 1}
        response = client.post("/v1/matches/assign", json=body, headers=tokens["subcenter_b"])
        answers.append((response.status_code, re.sub(r"\d+", "N", response.text)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
