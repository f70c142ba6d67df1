"""Fixtures of the matcher tests: an own database holding a small indexed world.

The matcher reads through the indexer, which commits, so these tests get a database of their
own (as the indexer tests do). The world is English so the fast MiniLM model serves it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from fastapi.testclient import TestClient

from greenplat.api.app import create_app
from greenplat.core.accounts import service as accounts
from greenplat.core.db import Database
from greenplat.core.organizations import service as organizations
from greenplat.core.outbox import record_change
from greenplat.core.permissions import Principal
from greenplat.core.settings import Settings
from greenplat.indexer.service import Indexer
from greenplat.matcher.service import Matcher
from greenplat.platform import Platform

PASSWORD = "matcher-test-password-1"
REGION = "江苏"


@pytest.fixture(scope="session")
def match_db_url(make_database_url) -> str:
    return make_database_url("matcher")


@pytest.fixture(scope="session")
def match_settings(settings: Settings, match_db_url: str) -> Settings:
    return settings.model_copy(update={"database_url": match_db_url, "models": "en:minilm"})


@pytest.fixture(scope="session")
def match_db(match_db_url: str) -> Iterator[Database]:
    database = Database(match_db_url, min_size=1, max_size=6)
    yield database
    database.close()


@dataclass
class World:
    """Ids of the records and accounts of the test world, by short name."""

    problems: dict[str, int] = field(default_factory=dict)
    experts: dict[str, int] = field(default_factory=dict)
    achievements: dict[str, int] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)


def _insert(conn: psycopg.Connection, table: str, values: dict) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    row = conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", list(values.values())
    ).fetchone()
    record_change(conn, table, row["id"])
    return row["id"]


EXPERTS = {
    # name: (organization, region, capacity, bio, works)
    "battery": (
        "Eastern University",
        REGION,
        5,
        "Electrochemistry of lithium-ion batteries.",
        [
            (
                "Silicon anodes for lithium-ion batteries",
                "Silicon anode materials raise the energy density of lithium-ion battery cells.",
            ),
            (
                "Thermal runaway of lithium-ion battery packs",
                "We study thermal runaway propagation and cooling in lithium-ion battery packs.",
            ),
        ],
    ),
    "insider": (
        "Acme Energy",
        REGION,
        5,
        "Battery engineer at Acme.",
        [
            (
                "Lithium-ion battery cathode coatings",
                "Cathode coatings extend the cycle life of lithium-ion batteries.",
            ),
        ],
    ),
    "busy": (
        "Northern Institute",
        "北京",
        1,
        "Battery management systems.",
        [
            (
                "State of charge estimation for lithium-ion batteries",
                "Kalman filters estimate the state of charge of lithium-ion battery cells.",
            ),
        ],
    ),
    "water": (
        "River University",
        "浙江",
        None,
        "Membranes for water treatment.",
        [
            (
                "Reverse osmosis membranes against fouling",
                "Graphene oxide coatings reduce fouling of reverse osmosis membranes.",
            ),
            (
                "Removing heavy metals from industrial wastewater",
                "Adsorbents remove lead and cadmium from industrial wastewater.",
            ),
        ],
    ),
    "papers_only": (
        None,
        None,
        None,
        None,
        [
            (
                "Fast charging protocols for lithium-ion cells",
                "Multi-stage fast charging limits lithium plating in lithium-ion battery cells.",
            ),
        ],
    ),
}
PROBLEMS = {
    # name: (status, organization, confidential, region, industry, title, description)
    "battery": (
        "approved",
        "Acme Energy",
        False,
        REGION,
        "energy",
        "Lithium-ion battery packs overheat",
        "Our electric scooter battery packs overheat when charging; we need better "
        "thermal management and safer lithium-ion cells.",
    ),
    "other": (
        "approved",
        "Blue Motors",
        False,
        "北京",
        "vehicles",
        "Battery state of charge drifts",
        "The state of charge estimate of our lithium-ion battery drifts over time.",
    ),
    "water": (
        "approved",
        "Clear Water Co",
        False,
        "浙江",
        "environment",
        "Membrane fouling in desalination",
        "Reverse osmosis membranes foul quickly in our desalination plant.",
    ),
    "draft": (
        "draft",
        "Acme Energy",
        False,
        REGION,
        "energy",
        "Battery recycling plan",
        "We want to recycle lithium-ion batteries from scooters.",
    ),
    "secret": (
        "approved",
        "Secret Cells",
        True,
        "上海",
        "energy",
        "Confidential anode project",
        "Codename zephyrite: silicon anode swelling cracks our lithium-ion cells.",
    ),
}


def build_world(database: Database) -> World:
    world = World()
    with database.session() as conn:
        conn.execute(
            "INSERT INTO regions (code, name, subcenter_name) VALUES ('js', %s, '江苏分中心')"
            " ON CONFLICT DO NOTHING",
            (REGION,),
        )
        for name, (org, region, capacity, bio, works) in EXPERTS.items():
            ext = f"E-{name}"
            world.experts[name] = _insert(
                conn,
                "experts",
                {
                    "external_id": ext,
                    "name": f"Expert {name}",
                    "organization": org,
                    "region": region,
                    "capacity": capacity,
                    "bio": bio,
                },
            )
            for i, (title, abstract) in enumerate(works):
                world.achievements[f"{name}{i}"] = _insert(
                    conn,
                    "achievements",
                    {
                        "external_id": f"A-{name}{i}",
                        "title": title,
                        "abstract": abstract,
                        "expert_ids": [ext],
                        "year": 2022,
                        "kind": "paper",
                        "discipline": "electrochemistry"
                        if "lithium" in abstract
                        else "environment",
                    },
                )
        # An achievement of the battery problem's own enterprise: never recommended back to it.
        world.achievements["acme"] = _insert(
            conn,
            "achievements",
            {
                "external_id": "A-acme",
                "title": "Thermal management of overheating lithium-ion scooter battery packs",
                "abstract": "Cooling plates keep lithium-ion scooter battery packs from"
                " overheating while charging.",
                "organization": "Acme Energy",
                "year": 2023,
                "kind": "technology",
                "discipline": "electrochemistry",
            },
        )
        for name, (status, org, confidential, region, industry, title, desc) in PROBLEMS.items():
            world.problems[name] = _insert(
                conn,
                "problems",
                {
                    "external_id": f"P-{name}",
                    "title": title,
                    "description": desc,
                    "status": status,
                    "organization": org,
                    "organization_id": organizations.ensure(conn=conn, name=org, verified=True),
                    "confidential": confidential,
                    "region": region,
                    "industry": industry,
                },
            )
        accounts_ = {
            "acme": ("enterprise", None, "Acme Energy", None),
            "blue": ("enterprise", None, "Blue Motors", None),
            "battery": ("expert", None, None, world.experts["battery"]),
            "water": ("expert", None, None, world.experts["water"]),
            "subcenter": ("subcenter_admin", REGION, None, None),
            "admin": ("platform_admin", None, None, None),
        }
        for key, (role, region, org, expert_id) in accounts_.items():
            username = f"m-{key}-{uuid.uuid4().hex[:6]}"
            user = accounts.create_user(
                conn=conn,
                username=username,
                password=PASSWORD,
                role=role,
                region=region,
                organization=org,
                expert_id=expert_id,
            )
            world.usernames[key] = username
            world.principals[key] = accounts.get_principal_by_username(
                conn=conn, username=user.username
            )
    return world


@pytest.fixture(scope="session")
def match_indexer(match_settings: Settings, match_db: Database) -> Iterator[Indexer]:
    indexer = Indexer(match_settings, match_db)
    yield indexer
    indexer.close()


@pytest.fixture(scope="module")
def small_pool(make_database_url, match_settings: Settings) -> Iterator[tuple[Platform, World]]:
    """A platform with a pool of 4 on a database of its own holding the indexed world."""
    url = make_database_url("pool")
    settings = match_settings.model_copy(
        update={"database_url": url, "db_pool_min": 1, "db_pool_max": 4}
    )
    platform = Platform(settings, Database(url, min_size=1, max_size=settings.db_pool_max))
    built = build_world(platform.db)
    platform.indexer.sync_pending()
    yield platform, built
    platform.close()


@pytest.fixture(scope="session")
def world_builder():
    """build_world, as a fixture (test modules cannot import conftest under importlib mode)."""
    return build_world


@pytest.fixture(scope="session")
def world(match_db: Database, match_indexer: Indexer) -> World:
    built = build_world(match_db)
    match_indexer.sync_pending()
    return built


@pytest.fixture
def matcher(
    match_settings: Settings, match_db: Database, match_indexer: Indexer, world: World
) -> Iterator[Matcher]:
    """The matcher over the world; feedback (and what it set off) is removed after a test."""
    yield Matcher(match_indexer)
    with match_db.session() as conn:
        for table in ("match_feedback", "notifications", "email_outbox", "messages"):
            conn.execute(f"DELETE FROM {table}")


@pytest.fixture
def mconn(match_db: Database) -> Iterator[psycopg.Connection]:
    """The test's one connection to the matcher's database, as a request has; rolled back."""
    with match_db.pool.connection() as conn:
        yield conn
        conn.rollback()


@pytest.fixture
def add_feedback(match_db: Database):
    """Store feedback rows directly: what earlier actions left behind."""

    def add(problem: int, expert: int, action: str, reason: str | None = None) -> None:
        with match_db.session() as conn:
            conn.execute(
                "INSERT INTO match_feedback (problem_id, expert_id, action, reason, actor_role)"
                " VALUES (%s, %s, %s, %s, 'platform_admin')",
                (problem, expert, action, reason),
            )

    return add


@pytest.fixture(scope="module")
def client(match_settings, match_db, world):
    platform = Platform(match_settings, match_db)
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client
    platform.indexer.close()


@pytest.fixture(scope="module")
def auth(client, world):
    headers = {}
    for key, username in world.usernames.items():
        response = client.post("/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        headers[key] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return headers


@pytest.fixture
def api(client, auth, matcher):
    """(client, headers by account); feedback is removed after each test by `matcher`."""
    return client, auth
