"""Every row of PERMISSIONS, for every role, exercised on real records through the services.

For each (resource, action, role) the test builds records the role owns, records in its
region and records elsewhere, performs the action through the service function, and checks
it succeeds exactly where the table's scope says it should.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from greenplat.core.accounts import service as accounts
from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import AchievementCreate, AchievementUpdate
from greenplat.core.audit import service as audit
from greenplat.core.errors import Forbidden, NotFound
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertCreate, ExpertUpdate
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.organizations import service as organizations
from greenplat.core.organizations.models import MembershipDecision
from greenplat.core.permissions import (
    ALL,
    OWN,
    PERMISSIONS,
    PUB,
    REGION,
    ROLES,
    Principal,
    scope_of,
)
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemCreate, ProblemReview, ProblemUpdate
from greenplat.core.reference import service as reference
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate
from greenplat.core.stats import service as stats
from greenplat.matcher import feedback
from greenplat.matcher.models import FeedbackCreate

# Kinds of record each action is tried on, relative to the acting principal:
#   own       belongs to the principal (for its role's sense of OWN), in region A
#   region    in region A (the principal's region), not its own
#   other     in region B, not its own, not published
#   published in region B, approved (problems only)
KINDS = ("own", "region", "other", "published")
STATUS_FOR = {
    "read": "draft",
    "update": "draft",
    "delete": "draft",
    "submit": "draft",
    "review": "submitted",
    "close": "approved",
    "match": "approved",
}


class Ctx:
    def __init__(self, conn, world, build, principal: Principal) -> None:
        self.conn, self.w, self.b, self.p = conn, world, build, principal

    def region_of(self, kind: str) -> str:
        return self.w.region_a if kind in ("own", "region") else self.w.region_b

    def is_own(self, kind: str) -> bool:
        return kind == "own" and self.p.role in ("enterprise", "expert")


def expected(role: str, resource: str, action: str, kind: str, owns: bool) -> bool:
    scope = PERMISSIONS[(resource, action)][ROLES.index(role)]
    return bool(
        ALL in scope
        or (OWN in scope and owns)
        or (REGION in scope and kind in ("own", "region"))
        or (PUB in scope and kind == "published")
    )


# ---- problems -------------------------------------------------------------------------


def _problem(c: Ctx, kind: str, action: str) -> dict[str, Any]:
    status = "approved" if kind == "published" else STATUS_FOR.get(action, "draft")
    if kind == "own":
        owner = c.w.users["enterprise"] if c.p.role != "enterprise" else c.p
        # "own" is the principal's own only when it is the enterprise; for other roles this
        # is simply a problem in region A owned by someone else.
        return c.b.problem(
            c.conn, region=c.w.region_a, organization=owner.organization, owner=owner, status=status
        )
    return c.b.problem(c.conn, region=c.region_of(kind), organization=c.w.org_other, status=status)


def problem_action(action: str) -> Callable[[Ctx, str], None]:
    def run(c: Ctx, kind: str) -> None:
        if action == "create":
            data = ProblemCreate(title="新需求", description="描述", region=c.region_of(kind))
            problems.create(conn=c.conn, principal=c.p, data=data)
            return
        pid = _problem(c, kind, action)["id"]
        kw = dict(conn=c.conn, principal=c.p, problem_id=pid)
        if action == "read":
            problems.get_or_raise(**kw)
            assert pid in {p.id for p in problems.list(**kw_list(c), page_size=100).items}
        elif action == "update":
            problems.update(**kw, data=ProblemUpdate(title="改过的标题"))
        elif action == "delete":
            problems.delete(**kw)
        elif action == "submit":
            problems.submit(**kw)
        elif action == "review":
            problems.review(**kw, data=ProblemReview(decision="approve", comment="ok"))
        elif action == "close":
            problems.close(**kw)
        elif action == "match":
            problems.mark_matched(**kw)

    return run


def kw_list(c: Ctx) -> dict[str, Any]:
    return dict(conn=c.conn, principal=c.p)


# ---- achievements and experts ---------------------------------------------------------


def _achievement_experts(c: Ctx, kind: str) -> list[str]:
    if kind == "own":
        return [c.p.expert_external_id or c.w.expert_a]
    return [c.w.expert_a2] if kind == "region" else [c.w.expert_b]


def achievement_action(action: str) -> Callable[[Ctx, str], None]:
    def run(c: Ctx, kind: str) -> None:
        if action == "create":
            data = AchievementCreate(
                title="成果", abstract="摘要", expert_ids=_achievement_experts(c, kind)
            )
            achievements.create(conn=c.conn, principal=c.p, data=data)
            return
        aid = c.b.achievement(c.conn, expert_ids=_achievement_experts(c, kind))["id"]
        kw = dict(conn=c.conn, principal=c.p, achievement_id=aid)
        if action == "read":
            achievements.get_or_raise(**kw)
        elif action == "update":
            achievements.update(**kw, data=AchievementUpdate(title="新标题"))
        elif action == "delete":
            achievements.delete(**kw)
        elif action == "withdraw":
            achievements.withdraw(**kw)
            achievements.restore(**kw)

    return run


def _expert_row(c: Ctx, kind: str) -> dict[str, Any]:
    if kind == "own":
        return c.conn.execute(
            "SELECT * FROM experts WHERE external_id = %s", (c.w.expert_a,)
        ).fetchone()
    return c.b.expert(c.conn, region=c.region_of(kind))


def expert_action(action: str) -> Callable[[Ctx, str], None]:
    def run(c: Ctx, kind: str) -> None:
        if action == "create":
            data = ExpertCreate(name="新专家", region=c.region_of(kind))
            experts.create(conn=c.conn, principal=c.p, data=data)
            return
        row = _expert_row(c, kind)
        kw = dict(conn=c.conn, principal=c.p, expert_id=row["id"])
        if action == "read":
            experts.get_or_raise(**kw)
        elif action == "update":
            experts.update(**kw, data=ExpertUpdate(bio="新的简介"))
        elif action == "delete":
            experts.delete(**kw)

    return run


# ---- organizations, stats, feedback ---------------------------------------------------


def _organization(c: Ctx, kind: str) -> dict[str, Any]:
    if kind == "own" and c.p.organization_id is not None:
        org_id = c.p.organization_id
    else:
        name, region = f"组织{c.b.uid()}", c.region_of(kind)
        org_id = organizations.ensure(conn=c.conn, name=name, region=region, verified=False)
    return c.conn.execute("SELECT * FROM organizations WHERE id = %s", (org_id,)).fetchone()


def organization_action(action: str) -> Callable[[Ctx, str], None]:
    def run(c: Ctx, kind: str) -> None:
        org = _organization(c, kind)
        kw = dict(conn=c.conn, principal=c.p, organization_id=org["id"])
        if action == "read":
            if org["id"] not in {o.id for o in organizations.list(conn=c.conn, principal=c.p)}:
                raise Forbidden("not listed")
        elif action == "approve":
            joiner = accounts.create_user(
                conn=c.conn, username=f"join-{c.b.uid()}", password=c.b.PASSWORD, role="enterprise"
            )
            organizations.request_membership(
                conn=c.conn, user_id=joiner.id, organization_id=org["id"]
            )
            (pending,) = [r for r in organizations.list_requests(**kw) if r.user_id == joiner.id]
            organizations.decide_request(
                **kw, request_id=pending.id, data=MembershipDecision(decision="approve")
            )
            assert accounts.get_user(conn=c.conn, user_id=joiner.id).organization_id == org["id"]
        elif action == "verify":
            assert organizations.verify(**kw).verified

    return run


def stats_read(c: Ctx, kind: str) -> None:
    """The figures count a problem of the region only where stats.read reaches it."""
    industry = f"行业{c.b.uid()}"
    region = c.region_of(kind)
    pid = c.b.problem(c.conn, region=region, status="submitted", industry=industry)["id"]
    rows = stats.records(conn=c.conn, principal=c.p, region=region, industry=industry)
    if pid not in {r["id"] for r in rows}:
        raise Forbidden("not counted")


# ---- the rest -------------------------------------------------------------------------


def other_action(resource: str, action: str) -> Callable[[Ctx, str], None]:
    def run(c: Ctx, kind: str) -> None:
        if (resource, action) == ("import", "run"):
            rows = [
                Row(
                    1,
                    {"external_id": f"E-I{c.b.uid()}", "name": "导入", "region": c.region_of(kind)},
                )
            ]
            report = interchange.import_rows(
                conn=c.conn, principal=c.p, library="experts", rows=rows
            )
            if report.rejected:
                raise Forbidden(report.rejected[0].reason)
        elif (resource, action) == ("export", "run"):
            row = c.b.expert(c.conn, region=c.region_of(kind))
            if not interchange.within_reach(c.conn, c.p, "export", "experts", row):
                raise Forbidden("export")
            interchange.export_file(conn=c.conn, principal=c.p, library="experts", path=c.tmp)
        elif (resource, action) == ("region", "manage"):
            t = c.b.uid()
            regions.create_region(
                conn=c.conn, principal=c.p, data=RegionCreate(code=t, name=t, subcenter_name=t)
            )
        elif (resource, action) == ("user", "manage"):
            accounts.list_users(conn=c.conn, principal=c.p)
        elif (resource, action) == ("audit", "read"):
            marker = c.b.uid()
            audit.record(
                c.conn, actor="t", action="export", region=c.region_of(kind), external_id=marker
            )
            if not audit.list_entries(conn=c.conn, principal=c.p, external_id=marker).items:
                raise Forbidden("audit")
        elif (resource, action) == ("reference", "manage"):
            reference.add_alias(
                conn=c.conn, principal=c.p, kind="industry", alias=c.b.uid(), canonical="新能源"
            )
        elif (resource, action) == ("stats", "read"):
            stats_read(c, kind)
        elif (resource, action) == ("feedback", "create"):
            _note_a_match(c, kind)

    return run


def _note_a_match(c: Ctx, kind: str) -> None:
    """Note ("viewed") a match of a published problem: the own expert, or someone else's."""
    problem = _problem(c, kind, "match")
    expert_id = (
        c.p.expert_id
        if c.is_own(kind) and c.p.expert_id
        else c.b.expert(c.conn, region=c.region_of(kind))["id"]
    )
    data = FeedbackCreate(problem_id=problem["id"], expert_id=expert_id, action="viewed")
    feedback.create(conn=c.conn, principal=c.p, data=data)


def action_for(resource: str, action: str) -> Callable[[Ctx, str], None]:
    if resource == "organization":
        return organization_action(action)
    if resource == "problem":
        return problem_action(action)
    if resource == "achievement":
        return achievement_action(action)
    if resource == "expert":
        return expert_action(action)
    return other_action(resource, action)


def kinds_for(resource: str, action: str) -> tuple[str, ...]:
    if resource == "feedback":
        return ("own", "region", "other")
    if action == "create":
        return ("region", "other")
    if resource == "problem" and action == "read":
        return KINDS
    if resource in ("region", "user", "reference"):
        return ("other",)
    return ("own", "region", "other")


def owns_for(resource: str, action: str, role: str, kind: str) -> bool:
    if action == "create" and resource != "feedback":
        # An enterprise's new problem and an expert's new achievement are always its own.
        return (resource, role) in (("problem", "enterprise"), ("achievement", "expert"))
    return kind == "own" and role in ("enterprise", "expert")


# expert.inbox is enforced by the matcher: tests/matcher/test_inbox_permissions.py runs it.
CASES = [
    (res, act, role)
    for (res, act) in PERMISSIONS
    for role in ROLES
    if (res, act) != ("expert", "inbox")
]


@pytest.mark.parametrize(
    ("resource", "action", "role"), CASES, ids=[f"{r}.{a}-{o}" for r, a, o in CASES]
)
def test_permission_row(conn, world, build, tmp_path, resource, action, role):
    principal = world.users[role]
    run = action_for(resource, action)
    outcomes = {}
    for kind in kinds_for(resource, action):
        ctx = Ctx(conn, world, build, principal)
        ctx.tmp = tmp_path / f"{kind}.jsonl"
        try:
            with conn.transaction():
                run(ctx, kind)
                raise _Undo
        except _Undo:
            outcomes[kind] = True
        except (Forbidden, NotFound):
            outcomes[kind] = False
    want = {
        kind: expected(role, resource, action, kind, owns_for(resource, action, role, kind))
        for kind in outcomes
    }
    assert outcomes == want, f"scope {scope_of(principal, resource, action)}"


class _Undo(Exception):
    """Rolls back the savepoint of one attempt after it succeeded."""


def test_table_has_a_row_per_operation_of_the_services():
    assert {a for (r, a) in PERMISSIONS if r == "problem"} >= {
        "read",
        "create",
        "update",
        "delete",
        "submit",
        "review",
        "close",
        "match",
    }


@pytest.mark.parametrize(
    ("role", "resource", "action", "allowed"),
    [
        ("enterprise", "problem", "review", False),
        ("expert", "problem", "create", False),
        ("subcenter_admin", "problem", "review", True),
        ("enterprise", "achievement", "create", False),
        ("expert", "expert", "create", False),
        ("subcenter_admin", "user", "manage", False),
        ("platform_admin", "region", "manage", True),
    ],
)
def test_key_rules_of_the_brief(world, role, resource, action, allowed):
    scope = scope_of(world.users[role], resource, action)
    assert (scope != scope.NONE) is allowed
