"""One request id from an HTTP request to the worker that indexes what the request changed.

HTTP (X-Request-ID) -> outbox row + NOTIFY (payload carries the id) -> the indexer's dispatcher
-> a drain task on a real broker (id in the message headers) -> a real worker's JSON log lines.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from greenplat.api.app import create_app
from greenplat.core.accounts import service as accounts
from greenplat.indexer.tasks import DRAIN_TASK
from greenplat.platform import Platform

PASSWORD = "correct-horse-9"


@pytest.mark.slow
def test_request_id_reaches_the_worker_that_indexes_the_change(
    ops_settings, ops_db, broker, spawn_worker, poll
):
    settings = ops_settings.model_copy(
        update={"broker_url": broker.url, "queue_prefix": broker.prefix}
    )
    username = f"ops-admin-{uuid.uuid4().hex[:8]}"
    with ops_db.session() as conn:
        conn.execute("TRUNCATE outbox RESTART IDENTITY")
        accounts.create_user(conn=conn, username=username, password=PASSWORD, role="platform_admin")
    worker = spawn_worker(settings, broker, f"trace-{broker.prefix}", "index")
    platform = Platform(settings, ops_db)
    platform.indexer.start_dispatcher()
    try:
        client = TestClient(create_app(platform=platform))
        token = client.post(
            "/v1/auth/token", json={"username": username, "password": PASSWORD}
        ).json()["access_token"]
        request_id = f"trace-{uuid.uuid4().hex[:12]}"
        created = client.post(
            "/v1/problems",
            json={"title": "印染废水深度脱色", "description": "寻求低成本深度处理技术。"},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-ID"] == request_id

        def drained_under_the_request_id() -> list[dict]:
            return [
                r
                for r in worker.records()
                if r.get("request_id") == request_id
                and r.get("task") == DRAIN_TASK
                and "drained" in r.get("message", "")
            ]

        lines = poll(drained_under_the_request_id, 120, "the worker to log the drain")
        assert lines[0]["task_id"]
    finally:
        platform.indexer.close()
