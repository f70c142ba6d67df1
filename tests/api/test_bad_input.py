"""Bad input gets a clear 4xx naming the field, in one shape, and stored data stays intact."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from greenplat.api.app import create_app
from greenplat.platform import Platform

GOOD = {"title": "锅炉低氮燃烧改造", "description": "NOx 排放需降至 30 mg/m³ 以下。"}


@pytest.fixture
def problem(client, tokens):
    response = client.post("/v1/problems", json=GOOD, headers=tokens["enterprise"])
    assert response.status_code == 201
    return response.json()


def _fields(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return [f["field"] for f in body["error"]["fields"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"budget_wan": "很多"}, "budget_wan"),
        ({"budget_wan": -5}, "budget_wan"),
        ({"budget_wan": 1.234}, "budget_wan"),
        ({"keywords": ["a", "b", "c", "x" * 101]}, "keywords.3"),
        ({"keywords": "not;a;list;but" + "x" * 200}, "keywords.3"),
        ({"title": "长" * 301}, "title"),
        ({"description": "x" * 20001}, "description"),
        ({"deadline": "2026-02-30"}, "deadline"),
        ({"deadline": "next week"}, "deadline"),
        ({"confidential": "maybe"}, "confidential"),
        ({"title": 42}, "title"),
        ({"colour": "green"}, "colour"),
        ({"title": None}, "title"),
        ({"industry": "x" * 201}, "industry"),
    ],
)
def test_bad_field_on_update_is_422_naming_it_and_changes_nothing(
    client, tokens, problem, change, field
):
    url = f"/v1/problems/{problem['id']}"
    response = client.patch(url, json=change, headers=tokens["enterprise"])
    assert response.status_code == 422, response.text
    assert field in _fields(response)
    after = client.get(url, headers=tokens["enterprise"]).json()
    assert {k: after[k] for k in problem if k != "updated_at"} == {
        k: problem[k] for k in problem if k != "updated_at"
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": "只有标题"}, ["description"]),
        ({}, ["title", "description"]),
        ({**GOOD, "status": "approved"}, ["status"]),
        ([GOOD], ["body"]),
    ],
)
def test_bad_create_bodies(client, tokens, body, fields):
    response = client.post("/v1/problems", json=body, headers=tokens["enterprise"])
    assert response.status_code == 422
    assert _fields(response) == fields


def test_malformed_json_is_400(client, tokens):
    response = client.post(
        "/v1/problems",
        content=b'{"title": "x", "description": ',
        headers={**tokens["enterprise"], "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert _fields(response) == ["body"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "finished"}, "status"),
        ({"page_size": 1000}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"sort": "password"}, "sort"),
        ({"q": "x" * 500}, "q"),
    ],
)
def test_bad_query_parameters(client, tokens, params, field):
    response = client.get("/v1/problems", params=params, headers=tokens["enterprise"])
    assert response.status_code == 422
    assert _fields(response) == [field]


def test_unknown_enum_values_in_bodies(client, tokens, problem):
    pid = problem["id"]
    client.post(f"/v1/problems/{pid}/submit", headers=tokens["enterprise"])
    review = client.post(
        f"/v1/problems/{pid}/review", json={"decision": "maybe"}, headers=tokens["subcenter_admin"]
    )
    assert review.status_code == 422 and _fields(review) == ["decision"]
    assert "approve" in review.json()["error"]["fields"][0]["message"]
    kind = client.post(
        "/v1/achievements",
        json={"title": "t", "abstract": "a", "kind": "book"},
        headers=tokens["expert"],
    )
    assert kind.status_code == 422 and _fields(kind) == ["kind"]


@pytest.mark.parametrize("path", ["/v1/problems/abc", "/v1/problems/99999999999999999999"])
def test_bad_ids_are_422(client, tokens, path):
    response = client.get(path, headers=tokens["enterprise"])
    assert response.status_code == 422 and _fields(response) == ["problem_id"]


def test_unknown_paths_and_methods(client, tokens):
    missing = client.get("/v1/nothing-here", headers=tokens["enterprise"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.put("/v1/problems", json={}, headers=tokens["enterprise"])
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    gone = client.get("/v1/problems/987654321", headers=tokens["enterprise"])
    assert gone.status_code == 404 and "error" in gone.json()


@pytest.fixture(scope="module")
def small_client(settings, db):
    small = Platform(settings.model_copy(update={"max_body_bytes": 2048}), db)
    with TestClient(create_app(platform=small)) as test_client:
        yield test_client


def test_oversized_bodies_are_413(small_client, tokens):
    big = {**GOOD, "description": "x" * 5000}
    response = small_client.post("/v1/problems", json=big, headers=tokens["enterprise"])
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"

    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    chunked = small_client.post(
        "/v1/problems",
        content=chunks(),
        headers={**tokens["enterprise"], "content-type": "application/json"},
    )
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413
    fine = small_client.post("/v1/problems", json=GOOD, headers=tokens["enterprise"])
    assert fine.status_code == 201


def test_unexpected_errors_are_500_without_traceback(platform):
    app = create_app(platform=platform)

    @app.get("/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/v1/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"", 422, "body"),
        (b"null", 422, "body"),
        (b'{"title":"t","description":"d","budget_wan":1e400}', 422, "budget_wan"),
        (b'{"title":"t","description":"d","budget_wan":NaN}', 422, "budget_wan"),
        (
            b'{"title":"t","description":"d","budget_wan":99999999999999999999999}',
            422,
            "budget_wan",
        ),
        (b'{"title":"t","description":"d","keywords":[1,{"a":2}]}', 422, "keywords.0"),
        (b'{"title":"t","description":"d","external_id":""}', 422, "external_id"),
        (b'{"title":"t","description":"d","extra":[1]}', 422, "extra"),
        (b'{"title":"t","description":"d","deadline":"99999-01-01"}', 422, "deadline"),
        (b'{"title":"\xff\xfe","description":"d"}', 400, "body"),
        (b'{"title":"t\\u0000x","description":"d"}', 422, "title"),
        (b"[" * 5000 + b"]" * 5000, 400, "body"),
    ],
)
def test_odd_bodies_are_4xx_never_500(client, tokens, body, status, field):
    before = client.get("/v1/problems", headers=tokens["enterprise"]).json()["total"]
    response = client.post(
        "/v1/problems",
        content=body,
        headers={**tokens["enterprise"], "content-type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert field in _fields(response)
    assert client.get("/v1/problems", headers=tokens["enterprise"]).json()["total"] == before


def test_what_postgres_refuses_is_422_not_500(client, tokens):
    response = client.post(
        "/v1/problems",
        content=b'{"title":"t","description":"d","extra":{"k":"\\u0000"}}',
        headers={**tokens["enterprise"], "content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid"
