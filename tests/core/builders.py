"""Builders shared by tests/core, tests/api and tests/interchange (loaded by path).

A World is a committed set of regions, organizations, experts and one account per role,
with unique names so it never collides with other tests in the shared database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from greenplat.core.accounts import service as accounts
from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import AchievementRecord
from greenplat.core.db import Database
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertRecord
from greenplat.core.permissions import Principal
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemRecord
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate

PASSWORD = "correct-horse-9"


def uid() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class World:
    tag: str
    region_a: str
    region_b: str
    org_a: str  # enterprise of `enterprise`, in region A
    org_other: str  # another enterprise, in region A
    expert_a: str  # external_id of the expert profile of `expert` (region A)
    expert_a2: str  # another expert in region A without an account
    expert_b: str  # an expert in region B
    users: dict[str, Principal]  # role (and "enterprise2", "subcenter_b") -> principal
    usernames: dict[str, str]


def _principal(conn: psycopg.Connection, username: str) -> Principal:
    return accounts.get_principal_by_username(conn=conn, username=username)


def expert_record(external_id: str, region: str | None, **fields: Any) -> ExpertRecord:
    return ExpertRecord(external_id=external_id, name=f"专家{external_id}", region=region, **fields)


def make_world(db: Database) -> World:
    """Commit a fresh world and return it."""
    tag = uid()
    w = World(
        tag=tag,
        region_a=f"甲省{tag}",
        region_b=f"乙省{tag}",
        org_a=f"甲企业{tag}",
        org_other=f"丙企业{tag}",
        expert_a=f"EXA-{tag}",
        expert_a2=f"EXA2-{tag}",
        expert_b=f"EXB-{tag}",
        users={},
        usernames={},
    )
    with db.session() as conn:
        for code, name in (("A", w.region_a), ("B", w.region_b)):
            regions.upsert_region(
                conn=conn,
                data=RegionCreate(code=f"{code}{tag}", name=name, subcenter_name=f"{name}分中心"),
            )
        ids = {}
        for ext, region in (
            (w.expert_a, w.region_a),
            (w.expert_a2, w.region_a),
            (w.expert_b, w.region_b),
        ):
            ids[ext], _ = experts.upsert_record(conn=conn, record=expert_record(ext, region))
        specs = {
            "enterprise": dict(role="enterprise", region=w.region_a, organization=w.org_a),
            "enterprise2": dict(role="enterprise", region=w.region_a, organization=w.org_other),
            "expert": dict(
                role="expert",
                region=w.region_a,
                expert_id=ids[w.expert_a],
                organization=f"甲大学{tag}",
            ),
            "subcenter_admin": dict(role="subcenter_admin", region=w.region_a),
            "subcenter_b": dict(role="subcenter_admin", region=w.region_b),
            "platform_admin": dict(role="platform_admin"),
        }
        for key, spec in specs.items():
            username = f"{key}-{tag}"
            accounts.create_user(conn=conn, username=username, password=PASSWORD, **spec)
            w.users[key] = _principal(conn, username)
            w.usernames[key] = username
    return w


def problem(
    conn: psycopg.Connection,
    *,
    region: str | None,
    organization: str | None = None,
    status: str = "approved",
    confidential: bool = False,
    owner: Principal | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A stored problem (row as a dict)."""
    record = ProblemRecord(
        external_id=f"P-T{uid()}",
        title=fields.pop("title", "高温烟气余热回收"),
        description=fields.pop("description", "需要回收窑炉 300℃ 烟气余热，降低能耗。"),
        region=region,
        organization=organization,
        status=status,
        confidential=confidential,
        keywords=fields.pop("keywords", ["余热", "节能"]),
        budget_wan=fields.pop("budget_wan", 50),
        **fields,
    )
    problem_id, _ = problems.upsert_record(
        conn=conn, record=record, owner_id=owner.id if owner else None
    )
    return conn.execute("SELECT * FROM problems WHERE id = %s", (problem_id,)).fetchone()


def achievement(
    conn: psycopg.Connection,
    *,
    expert_ids: list[str],
    organization: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A stored achievement (row as a dict)."""
    record = AchievementRecord(
        external_id=f"A-T{uid()}",
        title=fields.pop("title", "低温余热有机朗肯循环发电技术"),
        abstract=fields.pop("abstract", "一种适用于 80-200℃ 余热的发电系统。"),
        expert_ids=expert_ids,
        organization=organization,
        **fields,
    )
    achievement_id, _ = achievements.upsert_record(conn=conn, record=record)
    return conn.execute("SELECT * FROM achievements WHERE id = %s", (achievement_id,)).fetchone()


def expert(conn: psycopg.Connection, *, region: str | None, **fields: Any) -> dict[str, Any]:
    """A stored expert (row as a dict)."""
    expert_id, _ = experts.upsert_record(
        conn=conn, record=expert_record(f"E-T{uid()}", region, **fields)
    )
    return conn.execute("SELECT * FROM experts WHERE id = %s", (expert_id,)).fetchone()
