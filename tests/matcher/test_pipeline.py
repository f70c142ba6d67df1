"""The match pipeline: who may take which action from which stage, once, in the API and portal."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from greenplat.matcher import pipeline

FEEDBACK = "/v1/matches/feedback"


@pytest.fixture
def flow(api, world, match_db):
    """(client, auth, post); problem statuses a deal changed are restored afterwards."""
    client, auth = api

    def post(who: str, action: str, problem: str = "battery", expert: str = "battery", **extra):
        body = {
            "problem_id": world.problems[problem],
            "expert_id": world.experts[expert],
            "action": action,
            **extra,
        }
        return client.post(FEEDBACK, json=body, headers=auth[who])

    yield client, auth, post
    with match_db.session() as conn:
        conn.execute("UPDATE problems SET status = 'approved' WHERE status = 'matched'")


def test_an_enterprise_cannot_answer_in_an_experts_name(flow):
    _, _, post = flow
    for action, extra in (("interested", {}), ("declined", {"reason": "busy"})):
        response = post("acme", action, **extra)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    assert post("admin", "interested").status_code == 403


def test_an_expert_cannot_record_a_deal_or_contact_on_someone_elses_problem(flow):
    _, _, post = flow
    assert post("battery", "interested").status_code == 201
    for action, extra in (("deal", {"contract_kind": "development"}), ("contacted", {})):
        response = post("battery", action, **extra)
        assert response.status_code == 403, response.text
    assert (
        post("water", "deal", problem="water", expert="water", contract_kind="service").status_code
        == 403
    )


def test_the_pipeline_moves_only_along_its_transitions(flow, world):
    client, auth, post = flow
    assert post("acme", "contacted").status_code == 409  # nobody answered yet
    assert post("acme", "invited", note="We read your pack cooling paper").status_code == 201
    repeated = post("acme", "invited")
    assert repeated.status_code == 409 and repeated.json()["error"]["code"] == "conflict"
    assert (
        post(
            "battery",
            "interested",
            proposal_approach="Liquid cooling plates",
            proposal_timeframe="3 months",
            proposal_cost="20 万元",
        ).status_code
        == 201
    )
    assert post("acme", "contacted").status_code == 201
    assert post("acme", "invited").status_code == 409
    assert post("subcenter", "negotiating").status_code == 201  # staff of the region may
    response = post("acme", "deal", contract_kind="development", amount_wan="50")
    assert response.status_code == 201, response.text
    assert response.json()["contract_kind"] == "development"
    assert response.json()["deal_date"] is not None
    problem = client.get(f"/v1/problems/{world.problems['battery']}", headers=auth["acme"])
    assert problem.json()["status"] == "matched"  # a deal on an approved problem matches it


def test_a_decline_needs_a_reason_and_a_long_reason_is_too_long_not_missing(flow):
    _, _, post = flow
    missing = post("battery", "declined", reason="   ")
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "reason"
    assert "needs a reason" in missing.json()["error"]["message"]
    long = post("battery", "declined", reason="x" * 2001)
    assert long.status_code == 422
    assert "too long" in long.json()["error"]["message"]
    assert post("battery", "declined", reason="x" * 2000).status_code == 201


def test_a_deal_needs_its_contract_kind(flow):
    _, _, post = flow
    assert post("battery", "interested").status_code == 201
    response = post("acme", "deal")
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "contract_kind"
    assert post("acme", "deal", contract_kind="lease").status_code == 422


def test_offered_actions_follow_the_table():
    enterprise, expert = {pipeline.ENTERPRISE}, {pipeline.EXPERT}
    assert pipeline.offered("recommended", enterprise) == ["invited"]
    assert pipeline.offered("invited", expert) == ["interested", "declined"]
    assert pipeline.offered("interested", enterprise) == ["contacted", "negotiating", "deal"]
    assert pipeline.offered("deal", enterprise | expert) == []
    assert pipeline.offered("declined", enterprise) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(client):
    """The same app served over HTTP on a random loopback port, for truly parallel requests."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_parallel_posts_store_one_row(flow, live, auth, world, match_db):
    def send(body_and_who):
        body, who = body_and_who
        return httpx.post(live + FEEDBACK, json=body, headers=auth[who], timeout=30).status_code

    pair = {"problem_id": world.problems["battery"], "expert_id": world.experts["battery"]}
    same = [({**pair, "action": "interested"}, "battery")] * 8
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(send, same))
    assert codes == [201] + [409] * 7
    mixed = [
        ({**pair, "action": "contacted"}, "acme"),
        ({**pair, "action": "deal", "contract_kind": "transfer"}, "acme"),
    ] * 4
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(send, mixed))
    with match_db.session() as conn:
        rows = conn.execute(
            "SELECT action, count(*) AS n FROM match_feedback WHERE problem_id = %s"
            " AND expert_id = %s GROUP BY action",
            (pair["problem_id"], pair["expert_id"]),
        ).fetchall()
    counts = {r["action"]: r["n"] for r in rows}
    assert counts["interested"] == 1 and all(n == 1 for n in counts.values())
    assert codes.count(201) == len(counts) - 1


def test_the_pipeline_lists_each_expert_once_with_the_next_actions(flow, world):
    client, auth, post = flow
    url = f"/v1/matches/problems/{world.problems['battery']}/pipeline"
    assert post("acme", "invited", note="Please").status_code == 201
    assert post("battery", "interested", proposal_timeframe="3 months").status_code == 201
    assert post("acme", "contacted").status_code == 201
    (row,) = client.get(url, headers=auth["acme"]).json()
    assert row["stage"] == "contacted" and row["offered"] == ["negotiating", "deal"]
    assert [h["action"] for h in row["history"]] == ["invited", "interested", "contacted"]
    assert row["proposal"]["proposal_timeframe"] == "3 months"
    (staff,) = client.get(url, headers=auth["subcenter"]).json()
    assert staff["offered"] == ["negotiating", "deal"]
    for outsider in ("blue", "battery", "water"):
        assert client.get(url, headers=auth[outsider]).status_code == 404


def test_each_pipeline_row_carries_the_experts_fit_as_the_recommendations_judge_it(flow, world):
    client, auth, post = flow
    pid = world.problems["battery"]
    assert post("acme", "invited").status_code == 201
    assert post("acme", "invited", expert="water").status_code == 201
    answer = post("battery", "interested", proposal_approach="Phase-change cooling")
    assert answer.status_code == 201
    rows = client.get(f"/v1/matches/problems/{pid}/pipeline", headers=auth["acme"]).json()
    fits = {row["expert_id"]: row["level"] for row in rows}
    recommended = client.get(f"/v1/matches/problems/{pid}/experts", headers=auth["acme"]).json()
    levels = {item["id"]: item["level"] for item in recommended["items"]}
    assert fits[world.experts["battery"]] in ("high", "good")
    assert fits[world.experts["battery"]] == levels[world.experts["battery"]]
    assert world.experts["water"] not in levels
    assert fits[world.experts["water"]] is None  # membranes for water: below the bar
