"""Redaction before filtering: what a reader may not see it cannot filter, search or sort by."""

from __future__ import annotations

import pytest


@pytest.fixture
def secrets(client, tokens, world, build, db):
    """Two approved confidential problems of the world's enterprise, in an industry of their
    own, whose hidden budgets order them opposite to their ids."""
    # An industry outside the reference list isolates these two; the API would refuse it
    # (docs/data.md), so they are stored as an import of older data would have left them.
    industry = f"保密行业{build.uid()}"
    ids = []
    for budget, phrase in ((900, "残碱偏高"), (1, "微裂纹")):
        with db.session() as conn:
            pid = build.problem(
                conn,
                region=world.region_a,
                organization=world.org_a,
                owner=world.users["enterprise"],
                status="draft",
                confidential=True,
                title=f"高镍正极改性{build.uid()}",
                description=f"拆解分析表明正极颗粒存在{phrase}。",
                keywords=[phrase],
                industry=industry,
                budget_wan=budget,
            )["id"]
        client.post(f"/v1/problems/{pid}/submit", headers=tokens["enterprise"])
        client.post(
            f"/v1/problems/{pid}/review",
            json={"decision": "approve"},
            headers=tokens["subcenter_admin"],
        )
        ids.append(pid)
    return industry, ids


def _ids(client, headers, **params):
    response = client.get("/v1/problems", params={"page_size": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


def test_hidden_text_cannot_be_searched(client, tokens, secrets):
    industry, (first, second) = secrets
    expert = tokens["expert"]
    assert _ids(client, expert, industry=industry, q="残碱") == []
    assert _ids(client, expert, industry=industry, q="微裂纹") == []
    assert _ids(client, tokens["enterprise"], industry=industry, q="残碱") == [first]
    assert _ids(client, tokens["subcenter_admin"], industry=industry, q="微裂纹") == [second]
    # The visible title still matches.
    assert sorted(_ids(client, expert, industry=industry, q="高镍正极")) == sorted([first, second])


def test_hidden_organization_cannot_be_filtered(client, tokens, world, secrets):
    industry, ids = secrets
    assert _ids(client, tokens["expert"], industry=industry, organization=world.org_a) == []
    assert _ids(client, tokens["enterprise2"], industry=industry, organization=world.org_a) == []
    mine = _ids(client, tokens["enterprise"], industry=industry, organization=world.org_a)
    assert sorted(mine) == sorted(ids)


def test_hidden_budgets_do_not_order_the_list(client, tokens, secrets):
    industry, (first, second) = secrets
    # Hidden budgets sort as unknown: the order is the tie-break by id alone.
    up = _ids(client, tokens["expert"], industry=industry, sort="budget_wan")
    down = _ids(client, tokens["expert"], industry=industry, sort="-budget_wan")
    assert up == [first, second] and down == [second, first]
    owner_up = _ids(client, tokens["enterprise"], industry=industry, sort="budget_wan")
    assert owner_up == [second, first]  # 1 before 900: the owner sees the budgets


def test_redacted_rows_carry_no_owner_budget_or_organization(client, tokens, secrets):
    industry, ids = secrets
    listed = client.get(
        "/v1/problems", params={"industry": industry}, headers=tokens["expert"]
    ).json()["items"]
    for row in listed + [client.get(f"/v1/problems/{ids[0]}", headers=tokens["expert"]).json()]:
        assert row["redacted"]
        assert row["owner_id"] is None and row["budget_wan"] is None
        assert row["organization"] is None and row["review_comment"] is None


def test_events_of_a_confidential_problem_only_for_full_readers(client, tokens, secrets):
    _, (pid, _) = secrets
    events = f"/v1/problems/{pid}/events"
    assert client.get(events, headers=tokens["expert"]).status_code == 404
    assert client.get(events, headers=tokens["enterprise2"]).status_code == 404
    owner = client.get(events, headers=tokens["enterprise"])
    assert owner.status_code == 200 and [e["to_status"] for e in owner.json()] == [
        "draft",
        "submitted",
        "approved",
    ]
    assert client.get(events, headers=tokens["subcenter_admin"]).status_code == 200
