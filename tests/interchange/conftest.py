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
