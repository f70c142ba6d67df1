"""One rule, four readers: allows(), the SQL filter (on PostgreSQL), the search backend's
filter and the feedback list agree on random problems and principals."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenplat.core.organizations import service as organizations
from greenplat.core.permissions import (
    ROLES,
    VISITOR_ROLE,
    Principal,
    allows,
    full_problem_clauses,
    problem_full_filter,
    problem_read_filter,
    sees_full_problem,
)
from greenplat.core.problems.service import TRANSITIONS
from greenplat.indexer.pgbackend import filter_sql
from greenplat.indexer.search import SearchFilters
from greenplat.matcher import feedback

STATUSES = sorted({"draft", *(t for _, t, _ in TRANSITIONS.values())})
REGIONS = ("甲", "乙", None)
# Indexes into the two accounts and two organizations made per test (2 means none).
PICK = st.integers(min_value=0, max_value=2)

principals = st.builds(
    dict,
    # Visitors (not signed in) follow the same rule: they see public problems only.
    role=st.sampled_from((*ROLES, VISITOR_ROLE)),
    user=PICK,
    region=st.sampled_from(REGIONS),
    org=PICK,
)
problems = st.builds(
    dict,
    status=st.sampled_from(STATUSES),
    region=st.sampled_from(REGIONS),
    org=PICK,
    owner=PICK,
    confidential=st.booleans(),
)


class _Undo(Exception):
    """Rolls one example back to the savepoint."""


def _in(conn, table: str, key: str, row: dict, condition: str, params: list) -> bool:
    """Whether the row passes the condition (alias p) in PostgreSQL."""
    query = f"SELECT EXISTS (SELECT 1 FROM {table} p WHERE p.{key} = %s AND {condition}) AS e"
    return conn.execute(query, [row["id"], *params]).fetchone()["e"]


def _accounts(conn, build) -> tuple[list, list]:
    users = [
        conn.execute(
            "INSERT INTO users (username, password_hash, role) VALUES (%s, 'x', 'enterprise')"
            " RETURNING id",
            (f"vis-{build.uid()}",),
        ).fetchone()["id"]
        for _ in range(2)
    ]
    orgs = [
        organizations.ensure(conn=conn, name=f"组织{build.uid()}", verified=True) for _ in range(2)
    ]
    return [*users, None], [*orgs, None]


def _store(conn, record: dict) -> dict:
    row = conn.execute(
        "INSERT INTO problems (external_id, title, description, status, region,"
        " organization_id, owner_id, confidential) VALUES (%s, 't', 'd', %s, %s, %s, %s, %s)"
        " RETURNING *",
        (
            f"P-V{uuid.uuid4().hex[:10]}",
            *(record[k] for k in ("status", "region", "org", "owner", "confidential")),
        ),
    ).fetchone()
    conn.execute(
        "INSERT INTO search_documents (library, record_id, external_id, lexemes, region,"
        " status, confidential, organization_id, owner_id, content_hash)"
        " VALUES ('problems', %s, %s, ''::tsvector, %s, %s, %s, %s, %s, 'h')",
        (row["id"], row["external_id"], *(row[k] for k in _DOC_FIELDS)),
    )
    expert = conn.execute(
        "INSERT INTO experts (external_id, name) VALUES (%s, 'e') RETURNING id",
        (f"E-V{uuid.uuid4().hex[:10]}",),
    ).fetchone()
    conn.execute(
        "INSERT INTO match_feedback (problem_id, expert_id, action, actor_role)"
        " VALUES (%s, %s, 'viewed', 'expert')",
        (row["id"], expert["id"]),
    )
    return row


_DOC_FIELDS = ("region", "status", "confidential", "organization_id", "owner_id")


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(who=principals, what=problems)
def test_allows_the_sql_filter_and_search_agree(conn, build, who, what):
    try:
        with conn.transaction():
            users, orgs = _accounts(conn, build)
            principal = Principal(
                id=users[who["user"]],
                username="p",
                role=who["role"],
                region=who["region"],
                organization_id=orgs[who["org"]],
            )
            record = {**what, "org": orgs[what["org"]], "owner": users[what["owner"]]}
            row = _store(conn, record)
            readable = allows(principal, "problem", "read", row)
            full = readable and sees_full_problem(principal, row)

            read_sql, params = problem_read_filter(principal)
            full_sql, more = problem_full_filter(principal)
            search_sql, found = filter_sql("problems", SearchFilters(principal=principal))
            assert _in(conn, "problems", "id", row, read_sql, params) is readable
            both = f"{read_sql} AND {full_sql}"
            assert _in(conn, "problems", "id", row, both, [*params, *more]) is full
            # Search shows a problem only to those who may read it in full (or it is public):
            # matching hidden text would otherwise reveal it.
            assert _in(conn, "search_documents", "record_id", row, search_sql, found) is full
            # Feedback on a problem is for those who may read it in full (not the public).
            listed = feedback.list(conn=conn, principal=principal, problem_id=row["id"]).total
            assert (listed == 1) is any(c.holds(row) for c in full_problem_clauses(principal))
            raise _Undo
    except _Undo:
        pass
