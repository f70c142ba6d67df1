"""A small schemathesis pass in CI: no server error and no status the OpenAPI does not list.

bench/fuzz.py runs the full pass (>= 10,000 cases per role against a served app).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from greenplat.core.db import Database

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ("enterprise", "expert", "platform_admin")
EXAMPLES = 3


@pytest.fixture(scope="module")
def fuzzed(make_database_url, settings, build) -> Iterator[tuple]:
    """An app on a database of its own (the fuzzer writes), and a bearer header per role."""
    from greenplat.api.app import create_app
    from greenplat.platform import Platform

    db = Database(make_database_url("fuzz"), min_size=1, max_size=4)
    world = build.make_world(db)
    platform = Platform(settings.model_copy(update={"models": "en:minilm"}), db)
    app = create_app(platform=platform)
    headers = {}
    with TestClient(app) as client:
        for role in ROLES:
            body = {"username": world.usernames[role], "password": build.PASSWORD}
            token = client.post("/v1/auth/token", json=body).json()["access_token"]
            headers[role] = {"Authorization": f"Bearer {token}"}
        # Load the embedding models now: the first search would outlast a request's timeout.
        warm = client.get("/v1/search?text=余热&library=experts", headers=headers["expert"])
        assert warm.status_code == 200
        yield app, headers
    if "indexer" in platform.__dict__:
        platform.indexer.close()
    db.close()


def _exercise(operation, headers: dict[str, dict[str, str]]) -> int:
    """Run the operation's generated cases as every role; returns how many requests were made."""
    made = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        nonlocal made
        for role in ROLES:
            case.call_and_validate(headers=headers[role], checks=CHECKS)
            made += 1

    run()
    return made


ENDS_SESSIONS = ("/v1/auth/logout", "/v1/auth/sessions/{session_id}")


def test_every_status_is_documented_and_none_is_a_server_error(fuzzed):
    app, headers = fuzzed
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    failed, tried, requests = [], 0, 0
    for result in api.get_all_operations():
        operation = result.ok()
        # Signing out, ending a session by id or switching accounts off would end the roles'
        # sessions mid-run.
        if operation.path in ENDS_SESSIONS or operation.path.startswith("/v1/users/{"):
            continue
        tried += 1
        try:
            requests += _exercise(operation, headers)
        except Exception as error:  # noqa: BLE001 - collect every operation's failure
            causes = getattr(error, "exceptions", [error])
            failed.append(f"{operation.label}: " + " | ".join(str(c)[:800] for c in causes))
    assert tried > 30 and requests > 300, (tried, requests)
    assert failed == []
