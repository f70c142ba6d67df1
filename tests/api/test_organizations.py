"""Organizations are records: signing up with a name grants nothing until approved, new
organizations start unverified, and lists show only what the reader may see."""

from __future__ import annotations

PROBLEM = {"title": "储能电芯高温产气", "description": "45℃循环800次后容量保持率82%。"}


def _signup(client, build, organization, region=None):
    username = f"join-{build.uid()}"
    body = {"username": username, "password": "long-enough-1", "organization": organization}
    created = client.post("/v1/auth/signup", json={**body, "region": region})
    assert created.status_code == 201, created.text
    token = client.post("/v1/auth/token", json={"username": username, "password": body["password"]})
    return created.json(), {"Authorization": f"Bearer {token.json()['access_token']}"}


def _problem(client, tokens, *, approve: bool, confidential: bool = True) -> int:
    made = client.post(
        "/v1/problems", json={**PROBLEM, "confidential": confidential}, headers=tokens["enterprise"]
    )
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    if approve:
        client.post(f"/v1/problems/{pid}/submit", headers=tokens["enterprise"])
        approved = client.post(
            f"/v1/problems/{pid}/review",
            json={"decision": "approve"},
            headers=tokens["subcenter_admin"],
        )
        assert approved.status_code == 200, approved.text
    return pid


def test_signing_up_with_an_existing_organizations_name_takes_over_nothing(
    client, tokens, world, build
):
    secret = _problem(client, tokens, approve=True)
    draft = _problem(client, tokens, approve=False)
    account, evil = _signup(client, build, world.org_a, world.region_a)
    assert account["organization"] is None and account["organization_id"] is None
    assert account["organization_pending"] == world.org_a

    read = client.get(f"/v1/problems/{secret}", headers=evil).json()
    assert read["redacted"] and read["description"] is None and read["owner_id"] is None
    assert client.get(f"/v1/problems/{draft}", headers=evil).status_code == 404
    assert client.get(f"/v1/problems/{secret}/events", headers=evil).status_code == 404
    assert client.post(f"/v1/problems/{secret}/close", headers=evil).status_code == 403
    assert client.delete(f"/v1/problems/{secret}", headers=evil).status_code == 403
    assert client.delete(f"/v1/problems/{draft}", headers=evil).status_code == 404
    mine = client.get("/v1/problems", params={"page_size": 100}, headers=evil).json()["items"]
    assert draft not in [p["id"] for p in mine]
    # The owner's problem is untouched.
    owner_view = client.get(f"/v1/problems/{secret}", headers=tokens["enterprise"]).json()
    assert owner_view["status"] == "approved" and not owner_view["redacted"]


def test_a_member_or_the_subcenter_approves_a_request_to_join(client, tokens, world, build):
    secret = _problem(client, tokens, approve=True)
    org_id = client.get("/v1/auth/me", headers=tokens["enterprise"]).json()["organization_id"]
    account, joiner = _signup(client, build, world.org_a, world.region_a)
    requests = f"/v1/organizations/{org_id}/requests"
    assert client.get(requests, headers=joiner).status_code == 404  # not a member yet
    assert client.get(requests, headers=tokens["enterprise2"]).status_code == 404
    assert client.get(requests, headers=tokens["subcenter_b"]).status_code == 404
    assert client.get(requests, headers=tokens["expert"]).status_code == 404
    pending = client.get(requests, headers=tokens["subcenter_admin"]).json()
    (mine,) = [r for r in pending if r["user_id"] == account["id"]]

    decide = f"{requests}/{mine['id']}"
    assert client.post(decide, json={"decision": "approve"}, headers=joiner).status_code == 404
    done = client.post(decide, json={"decision": "approve"}, headers=tokens["enterprise"])
    assert done.status_code == 200 and done.json()["status"] == "approved"
    again = client.post(decide, json={"decision": "reject"}, headers=tokens["enterprise"])
    assert again.status_code == 409

    me = client.get("/v1/auth/me", headers=joiner).json()
    assert (me["organization_id"], me["organization"]) == (org_id, world.org_a)
    assert me["organization_pending"] is None
    full = client.get(f"/v1/problems/{secret}", headers=joiner).json()
    assert not full["redacted"] and full["description"] == PROBLEM["description"]


def test_a_rejected_request_leaves_the_account_outside(client, tokens, world, build):
    org_id = client.get("/v1/auth/me", headers=tokens["enterprise"]).json()["organization_id"]
    account, joiner = _signup(client, build, world.org_a, world.region_a)
    requests = f"/v1/organizations/{org_id}/requests"
    (mine,) = [
        r
        for r in client.get(requests, headers=tokens["enterprise"]).json()
        if r["user_id"] == account["id"]
    ]
    rejected = client.post(
        f"{requests}/{mine['id']}", json={"decision": "reject"}, headers=tokens["subcenter_admin"]
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    me = client.get("/v1/auth/me", headers=joiner).json()
    assert me["organization_id"] is None and me["organization_pending"] is None


def test_a_new_organization_is_unverified_until_its_subcenter_verifies_it(
    client, tokens, world, build
):
    name = f"新企业{build.uid()}"
    account, owner = _signup(client, build, name, world.region_a)
    assert account["organization"] == name and account["organization_pending"] is None
    (org,) = client.get("/v1/organizations", headers=owner).json()
    assert (org["name"], org["verified"]) == (name, False)

    pid = client.post("/v1/problems", json=PROBLEM, headers=owner).json()["id"]
    assert client.post(f"/v1/problems/{pid}/submit", headers=owner).status_code == 200
    review = f"/v1/problems/{pid}/review"
    early = client.post(review, json={"decision": "approve"}, headers=tokens["subcenter_admin"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"

    verify = f"/v1/organizations/{org['id']}/verify"
    assert client.post(verify, headers=owner).status_code == 403
    assert client.post(verify, headers=tokens["subcenter_b"]).status_code == 404
    verified = client.post(verify, headers=tokens["subcenter_admin"])
    assert verified.status_code == 200 and verified.json()["verified"] is True
    late = client.post(review, json={"decision": "approve"}, headers=tokens["subcenter_admin"])
    assert late.status_code == 200 and late.json()["status"] == "approved"


def test_organization_lists_show_only_what_the_reader_may_see(client, tokens, world, build):
    far = f"乙地企业{build.uid()}"
    made = client.post(
        "/v1/organizations",
        json={"name": far, "kind": "enterprise", "region": world.region_b},
        headers=tokens["platform_admin"],
    )
    assert made.status_code == 201 and made.json()["verified"] is True

    def names(who, **params):
        response = client.get("/v1/organizations", params=params, headers=tokens[who])
        assert response.status_code == 200, response.text
        return {o["name"] for o in response.json()}

    assert names("enterprise") == {world.org_a}
    assert names("enterprise2") == {world.org_other}
    assert names("expert") == {f"甲大学{world.tag}"}
    regional = names("subcenter_admin")
    assert {world.org_a, world.org_other} <= regional and far not in regional
    assert far in names("subcenter_b") and world.org_a not in names("subcenter_b")
    assert {world.org_a, far} <= names("platform_admin")
    assert names("platform_admin", region=world.region_b, kind="enterprise") >= {far}
    assert client.get("/v1/organizations").status_code == 401
