"""Fixtures of the portal tests: the real app over the test database, one client per user."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture(scope="session")
def app(platform):
    from greenplat.api.app import create_app

    return create_app(platform=platform)


@pytest.fixture
def browser_as(app, world, build, login_form) -> Callable[[str], TestClient]:
    """A signed-in HTTP client for a role of the world ('enterprise', 'subcenter_b', ...)."""
    clients: list[TestClient] = []

    def sign_in(key: str) -> TestClient:
        client = TestClient(app)
        clients.append(client)
        response = client.post(
            "/login", data=login_form(client, world.usernames[key], build.PASSWORD)
        )
        assert response.status_code == 200, response.text
        return client

    yield sign_in
    for client in clients:
        client.close()


@pytest.fixture
def anonymous(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def csrf_of() -> Callable[[TestClient], str]:
    """Reads the form token of a client's session from one of its pages."""

    def read(client: TestClient, path: str = "/search") -> str:
        match = CSRF.search(client.get(path).text)
        assert match, "no form token on the page"
        return match.group(1)

    return read


@pytest.fixture(scope="session")
def login_form(csrf_of) -> Callable[..., dict[str, str]]:
    """The sign-in form's fields, with the form token of the client's pre-session cookie."""

    def form(client: TestClient, username: str, password: str, **extra: str) -> dict[str, str]:
        csrf = csrf_of(client, "/login")
        return {"csrf": csrf, "username": username, "password": password, **extra}

    return form
