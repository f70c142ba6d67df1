"""/healthz, /readyz and /metrics against real dependencies, up and down."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from greenplat.api.app import create_app
from greenplat.core.db import Database
from greenplat.core.outbox import record_changes
from greenplat.core.settings import Settings
from greenplat.platform import Platform


@pytest.fixture
def client_for(ops_db: Database) -> Iterator:
    """A TestClient for an app on the operations database with the given settings."""
    opened: list[Platform] = []

    def make(settings: Settings, db: Database | None = None) -> TestClient:
        platform = Platform(settings, db or ops_db)
        opened.append(platform)
        return TestClient(create_app(platform=platform))

    yield make
    for platform in opened:
        if "indexer" in platform.__dict__:
            platform.indexer.close()


def test_healthz_answers_without_touching_dependencies(client_for, ops_settings, closed_port):
    dead = ops_settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{closed_port}/0"})
    response = client_for(dead).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_readyz_is_ready_on_the_embedded_default(client_for, ops_settings):
    response = client_for(ops_settings).get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["failing"] == []
    assert set(body["checks"]) == {"database", "search", "broker"}
    assert "in-process" in body["checks"]["broker"]["detail"]
    assert "schema up to date" in body["checks"]["database"]["detail"]


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_readyz_with_a_live_broker_is_ready(client_for, ops_settings, broker):
    url = {
        "redis": "redis://127.0.0.1:6379/0",
        "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
    }[broker]
    response = client_for(ops_settings.model_copy(update={"broker_url": url})).get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["broker"]["ok"] is True
    # the password never leaves the process
    assert "guest:guest" not in response.text


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_readyz_names_a_broker_that_is_down(client_for, ops_settings, closed_port, scheme):
    url = f"{scheme}://user:secret@127.0.0.1:{closed_port}/"
    response = client_for(ops_settings.model_copy(update={"broker_url": url})).get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["failing"] == ["broker"]
    broker = body["checks"]["broker"]
    assert broker["ok"] is False and "GREENPLAT_BROKER_URL" in broker["hint"]
    assert body["checks"]["database"]["ok"] and body["checks"]["search"]["ok"]
    assert "secret" not in response.text


def test_readyz_names_a_search_cluster_that_is_down(client_for, ops_settings, closed_port):
    settings = ops_settings.model_copy(
        update={"search_backend": "elasticsearch", "es_url": f"http://127.0.0.1:{closed_port}"}
    )
    response = client_for(settings).get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["search"]
    assert "GREENPLAT_ES_URL" in body["checks"]["search"]["hint"]


def test_readyz_names_a_database_that_is_down(client_for, ops_settings, closed_port):
    dead = Database(f"postgresql://greenplat@127.0.0.1:{closed_port}/greenplat", min_size=0)
    try:
        response = client_for(ops_settings, dead).get("/readyz")
    finally:
        dead.close()
    body = response.json()
    assert response.status_code == 503
    assert "database" in body["failing"]
    assert body["checks"]["broker"]["ok"] is True


def test_request_id_is_echoed_or_made(client_for, ops_settings):
    client = client_for(ops_settings)
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    # an id that would corrupt log lines is replaced, not echoed
    odd = client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert odd.headers["X-Request-ID"] != "x" * 200


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (label order does not matter)."""
    for found, label_text, value in re.findall(r"^(\w+)\{(.*)\} (\S+)$", text, flags=re.M):
        if found == name and dict(re.findall(r'(\w+)="([^"]*)"', label_text)) == labels:
            return float(value)
    raise AssertionError(f"{name}{labels} missing from /metrics")


def test_metrics_report_latency_outbox_lag_and_index_sizes(client_for, ops_settings, ops_db):
    with ops_db.session() as conn:
        conn.execute("TRUNCATE problems, achievements, experts, outbox RESTART IDENTITY CASCADE")
        for n in (1, 2):
            row = conn.execute(
                "INSERT INTO experts (external_id, name, bio) VALUES (%s, %s, %s) RETURNING id",
                (f"E-OPS-{n}", f"专家{n}", "余热回收与有机朗肯循环"),
            ).fetchone()
            record_changes(conn, "experts", [row["id"]])
    client = client_for(ops_settings)
    platform = client.app.state.platform
    assert platform.indexer.sync_pending() == 2  # both experts are in the index now
    with ops_db.session() as conn:
        record_changes(conn, "problems", [101, 102, 103])
        conn.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")
    client.get("/healthz")
    text = client.get("/metrics").text
    latency = metric(
        text,
        "greenplat_http_request_duration_seconds_count",
        method="GET",
        route="/healthz",
        status="200",
    )
    assert latency >= 1
    assert metric(text, "greenplat_outbox_pending", library="problems") == 3
    assert metric(text, "greenplat_outbox_pending", library="experts") == 0
    assert metric(text, "greenplat_outbox_lag_seconds", library="problems") >= 90
    assert metric(text, "greenplat_outbox_failing", library="problems") == 0
    backend = platform.indexer.backend.name
    assert metric(text, "greenplat_index_documents", library="experts", backend=backend) == 2
    assert metric(text, "greenplat_library_records", library="experts") == 2
    assert re.search(r"^greenplat_outbox_given_up 0\.0$", text, flags=re.M)
    assert "# TYPE greenplat_match_duration_seconds histogram" in text
    assert "# TYPE greenplat_task_failures_total counter" in text
    with ops_db.session() as conn:
        conn.execute("TRUNCATE outbox RESTART IDENTITY")


def test_outbox_health_reads_the_same_in_metrics_readyz_doctor_and_index_status(
    client_for, ops_settings, ops_db
):
    from greenplat.api.ops_cli import check_outbox
    from greenplat.core.outbox import MAX_ATTEMPTS

    with ops_db.session() as conn:
        conn.execute("TRUNCATE outbox RESTART IDENTITY")
        record_changes(conn, "problems", [201, 202, 203])
        conn.execute(
            "UPDATE outbox SET attempts = 2, last_error = 'boom', available_at = now() + '1h'"
            " WHERE record_id = 202"
        )
        conn.execute(
            "UPDATE outbox SET attempts = %s, last_error = 'boom' WHERE record_id = 203",
            (MAX_ATTEMPTS,),
        )
    client = client_for(ops_settings)
    platform = client.app.state.platform
    try:
        text = client.get("/metrics").text
        assert metric(text, "greenplat_outbox_pending", library="problems") == 3
        assert metric(text, "greenplat_outbox_failing", library="problems") == 2
        assert re.search(r"^greenplat_outbox_given_up 1\.0$", text, flags=re.M)
        ready = client.get("/readyz").json()["checks"]["database"]["detail"]
        doctor = check_outbox(platform)
        for words in ("3 pending", "2 failing, 1 given up"):
            assert words in ready and words in doctor.detail
        assert not doctor.ok and "no longer retried" in doctor.detail
        with ops_db.session() as conn:
            status = platform.indexer.status(conn)
        assert (status["pending"], status["failing"], status["given_up"]) == (3, 2, 1)
    finally:
        with ops_db.session() as conn:
            conn.execute("TRUNCATE outbox RESTART IDENTITY")
