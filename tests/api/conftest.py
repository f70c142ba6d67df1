"""Fixtures of the API tests: the real app over the test database, tokens per role."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def client(platform):
    from fastapi.testclient import TestClient

    from greenplat.api.app import create_app

    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def tokens(client, world, build):
    """Bearer headers per role of the world, signed in once through the API."""
    headers = {}
    for key, username in world.usernames.items():
        response = client.post(
            "/v1/auth/token", json={"username": username, "password": build.PASSWORD}
        )
        assert response.status_code == 200, response.text
        headers[key] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return headers
