from __future__ import annotations

from pathlib import Path

import pytest

from greenplat.core.db import Database

BUILDERS = Path(__file__).parent / "builders.py"


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


@pytest.fixture(scope="session", autouse=True)
def _test_sized_password_hashing():
    """Real argon2, at a cost sized for tests: at full cost hashing dominates set-up."""
    from argon2 import PasswordHasher

    from greenplat.core.accounts import service as accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
        yield
