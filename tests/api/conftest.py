from __future__ import annotations

from pathlib import Path

import pytest

from greenplat.core.db import Database

BUILDERS = Path(__file__).parents[1] / "core" / "builders.py"


def _builders():
    import importlib.util
    import sys

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
    """Regions, organizations, experts and one account per role, committed once."""
    return build.make_world(db)


@pytest.fixture(scope="session")
def platform(settings, db):
    from greenplat.platform import Platform

    return Platform(settings, db)


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


@pytest.fixture(scope="session", autouse=True)
def _test_sized_password_hashing():
    """Real argon2, at a cost sized for tests: at full cost hashing dominates set-up."""
    from argon2 import PasswordHasher

    from greenplat.core.accounts import service as accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
        yield
