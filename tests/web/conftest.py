"""Fixtures of the portal tests: the real app over the test database, one client per user."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenplat.core.db import Database

BUILDERS = Path(__file__).parents[1] / "core" / "builders.py"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def _builders():
    name = "greenplat_test_builders"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BUILDERS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def build():
    """The builders module (tests/core/builders.py)."""
    return _builders()


@pytest.fixture(scope="session")
def world(db: Database, build):
    """Two regions, their accounts (one per role) and experts, committed once."""
    return build.make_world(db)


@pytest.fixture(scope="session")
def app(settings, db):
    from greenplat.api.app import create_app
    from greenplat.platform import Platform

    return create_app(platform=Platform(settings, db))


@pytest.fixture
def browser_as(app, world, build) -> Callable[[str], TestClient]:
    """A signed-in HTTP client for a role of the world ('enterprise', 'subcenter_b', ...)."""
    clients: list[TestClient] = []

    def sign_in(key: str) -> TestClient:
        client = TestClient(app)
        clients.append(client)
        response = client.post(
            "/login", data={"username": world.usernames[key], "password": build.PASSWORD}
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
