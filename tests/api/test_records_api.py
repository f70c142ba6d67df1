"""The libraries over HTTP: life cycle, the main permission rows, redaction, lists."""

from __future__ import annotations

import pytest

NEW_PROBLEM = {
    "title": "印染废水深度脱色",
    "description": "现有芬顿工艺药耗高，出水色度不稳定，寻求低成本深度处理技术。",
    "keywords": ["印染废水", "脱色"],
    "industry": "纺织",
    "budget_wan": 60,
    "deadline": "2027-06-30",
}


def _create(client, tokens, who="enterprise", **fields):
    response = client.post("/v1/problems", json={**NEW_PROBLEM, **fields}, headers=tokens[who])
    assert response.status_code == 201, response.text
    return response.json()


def test_problem_life_cycle_over_http(client, tokens, world):
    p = _create(client, tokens)
    assert (p["status"], p["organization"], p["region"]) == ("draft", world.org_a, world.region_a)
    pid = p["id"]
    ent, sub = tokens["enterprise"], tokens["subcenter_admin"]
    assert client.post(f"/v1/problems/{pid}/submit", headers=ent).json()["status"] == "submitted"
    returned = client.post(
        f"/v1/problems/{pid}/review",
        json={"decision": "return", "comment": "请补充水质数据"},
        headers=sub,
    )
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_comment"] == "请补充水质数据"
    edited = client.patch(f"/v1/problems/{pid}", json={"description": "COD 800 mg/L"}, headers=ent)
    assert edited.status_code == 200 and edited.json()["description"] == "COD 800 mg/L"
    client.post(f"/v1/problems/{pid}/submit", headers=ent)
    approved = client.post(f"/v1/problems/{pid}/review", json={"decision": "approve"}, headers=sub)
    assert approved.json()["status"] == "approved"
    again = client.post(f"/v1/problems/{pid}/submit", headers=ent)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert "approved" in again.json()["error"]["message"]
    assert client.post(f"/v1/problems/{pid}/close", headers=ent).json()["status"] == "closed"
    events = client.get(f"/v1/problems/{pid}/events", headers=ent).json()
    assert [e["to_status"] for e in events] == [
        "draft",
        "submitted",
        "returned",
        "submitted",
        "approved",
        "closed",
    ]
    assert events[2]["actor"] == world.usernames["subcenter_admin"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("enterprise", 403),  # enterprises never review
        ("expert", 404),  # experts cannot even see a submitted problem
        ("subcenter_b", 404),  # another region's sub-center
        ("subcenter_admin", 200),
        ("platform_admin", 200),
    ],
)
def test_review_row_over_http(client, tokens, who, status):
    pid = _create(client, tokens)["id"]
    client.post(f"/v1/problems/{pid}/submit", headers=tokens["enterprise"])
    response = client.post(
        f"/v1/problems/{pid}/review", json={"decision": "approve"}, headers=tokens[who]
    )
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["error"]["code"] in ("forbidden", "not_found")


@pytest.mark.parametrize(
    ("who", "status"),
    [("enterprise", 201), ("expert", 403), ("subcenter_admin", 201), ("platform_admin", 201)],
)
def test_problem_create_row_over_http(client, tokens, world, who, status):
    response = client.post(
        "/v1/problems", json={**NEW_PROBLEM, "region": world.region_a}, headers=tokens[who]
    )
    assert response.status_code == status


def test_problem_update_row_over_http(client, tokens):
    pid = _create(client, tokens)["id"]
    assert (
        client.patch(
            f"/v1/problems/{pid}", json={"title": "x"}, headers=tokens["enterprise2"]
        ).status_code
        == 404
    )
    assert (
        client.patch(
            f"/v1/problems/{pid}", json={"title": "x"}, headers=tokens["expert"]
        ).status_code
        == 404
    )
    ok = client.patch(
        f"/v1/problems/{pid}", json={"title": "新标题"}, headers=tokens["subcenter_admin"]
    )
    assert ok.status_code == 200 and ok.json()["title"] == "新标题"
    assert (
        client.delete(f"/v1/problems/{pid}", headers=tokens["subcenter_admin"]).status_code == 403
    )
    assert client.delete(f"/v1/problems/{pid}", headers=tokens["enterprise"]).status_code == 204
    assert client.get(f"/v1/problems/{pid}", headers=tokens["platform_admin"]).status_code == 404


def test_confidential_problem_redacted_over_http(client, tokens, world):
    pid = _create(client, tokens, confidential=True, description="配方保密")["id"]
    client.post(f"/v1/problems/{pid}/submit", headers=tokens["enterprise"])
    client.post(
        f"/v1/problems/{pid}/review",
        json={"decision": "approve"},
        headers=tokens["subcenter_admin"],
    )
    outsider = client.get(f"/v1/problems/{pid}", headers=tokens["expert"]).json()
    assert outsider["redacted"] is True
    assert outsider["description"] is None and outsider["budget_wan"] is None
    assert outsider["organization"] is None and outsider["keywords"] == []
    assert outsider["title"] == NEW_PROBLEM["title"] and outsider["industry"] == "纺织"
    listed = client.get(
        "/v1/problems", params={"q": "印染", "page_size": 100}, headers=tokens["expert"]
    )
    mine = [p for p in listed.json()["items"] if p["id"] == pid]
    assert mine and mine[0]["redacted"] and mine[0]["description"] is None
    owner = client.get(f"/v1/problems/{pid}", headers=tokens["enterprise"]).json()
    assert owner["redacted"] is False and owner["description"] == "配方保密"


def test_confidential_problem_carries_a_public_summary_for_experts(client, tokens, world):
    problem = _create(client, tokens, confidential=True, description="配方保密")
    assert problem["public_summary"] is None
    summary = "印染企业寻求低成本废水深度脱色技术。"
    response = client.patch(
        f"/v1/problems/{problem['id']}",
        json={"public_summary": summary},
        headers=tokens["enterprise"],
    )
    assert response.status_code == 200, response.text
    client.post(f"/v1/problems/{problem['id']}/submit", headers=tokens["enterprise"])
    client.post(
        f"/v1/problems/{problem['id']}/review",
        json={"decision": "approve"},
        headers=tokens["subcenter_admin"],
    )
    outsider = client.get(f"/v1/problems/{problem['id']}", headers=tokens["expert"]).json()
    assert outsider["redacted"] and outsider["description"] is None
    assert outsider["public_summary"] == summary
    too_long = client.patch(
        f"/v1/problems/{problem['id']}",
        json={"public_summary": "长" * 20001},
        headers=tokens["enterprise"],
    )
    assert too_long.status_code == 422 and "public_summary" in too_long.text


def test_achievement_and_expert_rows_over_http(client, tokens, world):
    body = {
        "title": "生物炭土壤修复",
        "abstract": "秸秆热解生物炭用于重金属钝化。",
        "kind": "technology",
    }
    assert (
        client.post("/v1/achievements", json=body, headers=tokens["enterprise"]).status_code == 403
    )
    made = client.post("/v1/achievements", json=body, headers=tokens["expert"])
    assert made.status_code == 201 and made.json()["expert_ids"] == [world.expert_a]
    aid = made.json()["id"]
    patched = client.patch(f"/v1/achievements/{aid}", json={"year": 2024}, headers=tokens["expert"])
    assert patched.json()["year"] == 2024
    me = world.users["expert"].expert_id
    mine = client.patch(
        f"/v1/experts/{me}", json={"keywords": ["生物炭"]}, headers=tokens["expert"]
    )
    assert mine.status_code == 200 and mine.json()["keywords"] == ["生物炭"]
    other = client.get("/v1/experts", params={"region": world.region_b}, headers=tokens["expert"])
    other_id = other.json()["items"][0]["id"]
    refused = client.patch(f"/v1/experts/{other_id}", json={"bio": "x"}, headers=tokens["expert"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    new_expert = {"name": "周研究员", "region": world.region_b}
    assert (
        client.post("/v1/experts", json=new_expert, headers=tokens["subcenter_admin"]).status_code
        == 403
    )
    assert (
        client.post("/v1/experts", json=new_expert, headers=tokens["subcenter_b"]).status_code
        == 201
    )


def test_users_and_regions_are_for_platform_admins(client, tokens, build):
    assert client.get("/v1/users", headers=tokens["subcenter_admin"]).status_code == 403
    listed = client.get("/v1/users", headers=tokens["platform_admin"])
    assert listed.status_code == 200 and listed.json()["total"] >= 6
    code = build.uid()
    region = {"code": code, "name": f"戊省{code}", "subcenter_name": "戊省分中心"}
    assert client.post("/v1/regions", json=region, headers=tokens["enterprise"]).status_code == 403
    made = client.post("/v1/regions", json=region, headers=tokens["platform_admin"])
    assert made.status_code == 201
    user = {
        "username": f"new-{code}",
        "password": "long-enough-1",
        "role": "subcenter_admin",
        "region": region["name"],
    }
    created = client.post("/v1/users", json=user, headers=tokens["platform_admin"])
    assert created.status_code == 201 and created.json()["region"] == region["name"]
    assert any(r["code"] == code for r in client.get("/v1/regions").json())


def test_lists_page_and_sort(client, tokens, world):
    tag = world.tag
    for budget in (5, 15, 10):
        _create(client, tokens, title=f"分页{tag}", budget_wan=budget)
    first = client.get(
        "/v1/problems",
        params={"q": f"分页{tag}", "sort": "-budget_wan", "page_size": 2},
        headers=tokens["enterprise"],
    ).json()
    assert first["total"] == 3 and [float(p["budget_wan"]) for p in first["items"]] == [15, 10]
    second = client.get(
        "/v1/problems",
        params={"q": f"分页{tag}", "sort": "-budget_wan", "page_size": 2, "page": 2},
        headers=tokens["enterprise"],
    ).json()
    assert [float(p["budget_wan"]) for p in second["items"]] == [5]
    drafts = client.get(
        "/v1/problems", params={"q": f"分页{tag}", "status": "draft"}, headers=tokens["expert"]
    ).json()
    assert drafts["total"] == 0


def test_openapi_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/problems", "/v1/achievements", "/v1/experts", "/v1/auth/token"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_creating_an_existing_external_id_is_409_and_keeps_the_original(client, tokens):
    first = _create(
        client, tokens, external_id=f"P-DUP-{tokens['enterprise']['Authorization'][-8:]}"
    )
    again = client.post(
        "/v1/problems",
        json={**NEW_PROBLEM, "title": "覆盖？", "external_id": first["external_id"]},
        headers=tokens["enterprise"],
    )
    assert again.status_code == 409
    assert again.json()["error"]["fields"][0]["field"] == "external_id"
    kept = client.get(f"/v1/problems/{first['id']}", headers=tokens["enterprise"]).json()
    assert kept["title"] == NEW_PROBLEM["title"]
