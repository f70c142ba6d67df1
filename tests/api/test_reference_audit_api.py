"""Reference lists and the audit log over HTTP."""

from __future__ import annotations


def test_a_list_is_public_with_its_source_and_resolves_text(client):
    regions = client.get("/v1/reference/region")
    assert regions.status_code == 200
    assert "GB/T 2260" in regions.json()["source"] and len(regions.json()["entries"]) == 34
    mapped = client.get("/v1/reference/region/resolve", params={"text": "Jiangsu"}).json()
    assert (mapped["value"], mapped["status"]) == ("江苏省", "mapped")
    unknown = client.get("/v1/reference/region/resolve", params={"text": "火星省"}).json()
    assert unknown["status"] == "unknown" and len(unknown["closest"]) == 3
    assert client.get("/v1/reference/planets").status_code == 422


def test_only_platform_admins_add_aliases(client, tokens, build):
    alias = f"苏-{build.uid()}"
    body = {"alias": alias, "canonical": "江苏省"}
    refused = client.post(
        "/v1/reference/region/aliases", json=body, headers=tokens["subcenter_admin"]
    )
    assert refused.status_code == 403
    added = client.post("/v1/reference/region/aliases", json=body, headers=tokens["platform_admin"])
    assert added.status_code == 201, added.text
    again = client.get("/v1/reference/region/resolve", params={"text": alias}).json()
    assert again["value"] == "江苏省"
    bad = client.post(
        "/v1/reference/region/aliases",
        json={"alias": "x", "canonical": "火星省"},
        headers=tokens["platform_admin"],
    )
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "canonical"


def test_merge_previews_without_a_count_and_refuses_a_stale_one(client, tokens):
    body = {"source": f"无此行业-{id(client)}", "target": "新能源"}
    headers = tokens["platform_admin"]
    preview = client.post("/v1/reference/industry/merge", json=body, headers=headers)
    assert preview.status_code == 200 and preview.json()["done"] is False
    assert preview.json()["total"] == 0
    stale = client.post(
        "/v1/reference/industry/merge", json={**body, "expected": 5}, headers=headers
    )
    assert stale.status_code == 409


def test_failed_sign_ins_are_logged_though_the_request_fails(client, tokens, world):
    username = world.usernames["enterprise2"]
    refused = client.post("/v1/auth/token", json={"username": username, "password": "wrong-1234"})
    assert refused.status_code == 401
    page = client.get(
        "/v1/audit",
        params={"action": "login_failed", "actor": username},
        headers=tokens["platform_admin"],
    )
    assert page.status_code == 200 and page.json()["total"] >= 1
    assert client.get("/v1/audit", headers=tokens["enterprise"]).status_code == 403
    center = client.get("/v1/audit", headers=tokens["subcenter_b"]).json()
    assert {e["region"] for e in center["items"]} <= {world.region_b}


def test_the_duplicate_check_warns_before_posting(client, tokens, world, db):
    title, text = (
        "废水中的氟离子深度去除",
        "光伏电池片清洗废水氟离子浓度约 200 mg/L，需要降到 8 mg/L 以下并控制污泥量。",
    )
    with db.session() as conn:
        existing = conn.execute(
            "INSERT INTO problems (external_id, title, description, organization, region, status)"
            " VALUES (%s, %s, %s, %s, %s, 'approved') RETURNING id, external_id",
            (f"PRB-A{id(text)}", title, text, world.org_a, world.region_a),
        ).fetchone()
    try:
        body = {"title": title, "text": text.replace("需要", "希望")}
        found = client.post("/v1/duplicates/check", json=body, headers=tokens["enterprise"])
        assert found.status_code == 200, found.text
        assert found.json()["warning"].startswith(f"与已有需求 {existing['external_id']} 高度相似")
        other = client.post("/v1/duplicates/check", json=body, headers=tokens["enterprise2"])
        assert other.json() == {"suspects": [], "warning": None}
        assert (
            client.post("/v1/duplicates/check", json=body, headers=tokens["expert"]).status_code
            == 403
        )
    finally:
        with db.session() as conn:
            conn.execute("DELETE FROM problems WHERE id = %s", (existing["id"],))


def test_a_change_over_the_api_names_the_token_s_account_and_request(client, tokens, world):
    # The sign-in by token names the actor in the statement that finds the account.
    headers = {**tokens["enterprise"], "X-Request-ID": f"audit-{id(client)}"}
    body = {"title": "审计测试：余热回收", "description": "换热器结垢导致效率下降。"}
    made = client.post("/v1/problems", json=body, headers=headers)
    assert made.status_code == 201, made.text
    page = client.get(
        "/v1/audit",
        params={"action": "insert", "actor": world.usernames["enterprise"]},
        headers=tokens["platform_admin"],
    ).json()
    mine = [e for e in page["items"] if e["external_id"] == made.json()["external_id"]]
    assert [(e["library"], e["actor_role"], e["request_id"]) for e in mine] == [
        ("problems", "enterprise", headers["X-Request-ID"])
    ]


def test_a_bad_token_matters_only_where_a_principal_is_asked_for(client):
    # The token is looked up with the request's connection; a public page ignores the result.
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/v1/reference/region", headers=bad).status_code == 200
    refused = client.get("/v1/audit", headers=bad)
    assert refused.status_code == 401 and "token" in refused.json()["error"]["message"]
    assert client.get("/v1/audit").status_code == 401
