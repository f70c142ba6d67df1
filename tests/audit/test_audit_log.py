"""The audit log: append-only in the database, and every kind of act it must hold."""

from __future__ import annotations

import psycopg
import pytest

from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import UserUpdate
from greenplat.core.audit import service as audit
from greenplat.core.errors import Forbidden
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.problems import service as problems


def _entries(conn, **filters):
    return conn.execute(
        "SELECT * FROM audit_log WHERE "
        + " AND ".join(f"{k} = %({k})s" for k in filters)
        + " ORDER BY id",
        filters,
    ).fetchall()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
def test_the_application_connection_cannot_change_or_delete_entries(conn, world, statement):
    audit.record(conn, actor=world.users["platform_admin"], action="export", rows=1)
    refused = pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only")
    with refused, conn.transaction():
        conn.execute(statement)
    assert conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] >= 1


def test_changes_name_their_actor_and_the_changed_fields(conn, world, build):
    enterprise = world.users["enterprise"]
    audit.set_actor(conn, enterprise)
    row = build.problem(conn, region=world.region_a, organization=world.org_a, status="draft")
    problems.submit(conn=conn, principal=enterprise, problem_id=row["id"])
    inserted, submitted = _entries(conn, library="problems", record_id=row["id"])
    assert (inserted["action"], inserted["actor"], inserted["region"]) == (
        "insert",
        enterprise.username,
        world.region_a,
    )
    assert submitted["action"] == "update" and "status" in submitted["detail"]["fields"]
    assert (submitted["detail"]["from"], submitted["detail"]["to"]) == ("draft", "submitted")
    # Names of changed fields only: a confidential text never lands in the log.
    assert set(submitted["detail"]) == {"fields", "from", "to"}


def test_full_reads_of_confidential_problems_are_logged_and_redacted_ones_not(conn, world, build):
    secret = build.problem(conn, region=world.region_a, confidential=True)
    plain = build.problem(conn, region=world.region_a)
    problems.get_or_raise(
        conn=conn, principal=world.users["subcenter_admin"], problem_id=secret["id"]
    )
    problems.get_or_raise(conn=conn, principal=world.users["expert"], problem_id=secret["id"])
    problems.get_or_raise(
        conn=conn, principal=world.users["subcenter_admin"], problem_id=plain["id"]
    )
    reads = _entries(conn, action="read", library="problems", record_id=secret["id"])
    assert [r["actor"] for r in reads] == [world.usernames["subcenter_admin"]]
    assert not _entries(conn, action="read", library="problems", record_id=plain["id"])


def test_role_changes_are_logged_with_both_roles(conn, world, build):
    admin = world.users["platform_admin"]
    user = accounts.create_user(
        conn=conn,
        username=f"r-{build.uid()}",
        password=build.PASSWORD,
        role="enterprise",
        region=world.region_a,
    )
    audit.set_actor(conn, admin)
    accounts.update_user(
        conn=conn, principal=admin, user_id=user.id, data=UserUpdate(role="expert")
    )
    (change,) = _entries(conn, action="role_change", record_id=user.id)
    assert (change["actor"], change["detail"]["from"], change["detail"]["to"]) == (
        admin.username,
        "enterprise",
        "expert",
    )


def test_imports_and_exports_are_logged_with_row_counts(conn, world, build, tmp_path):
    center = world.users["subcenter_admin"]
    rows = [
        Row(1, {"external_id": f"E-AU-{build.uid()}", "name": "甲", "region": world.region_a}),
        Row(2, {"external_id": f"E-AU-{build.uid()}", "name": "乙", "region": "火星省"}),
    ]
    interchange.import_rows(conn=conn, principal=center, library="experts", rows=rows)
    count = interchange.export_file(
        conn=conn, principal=center, library="experts", path=tmp_path / "e.jsonl"
    )
    # The world's accounts are shared by the session's tests: take this test's entries.
    imported = _entries(conn, action="import", actor=center.username)[-1]
    assert (imported["rows"], imported["detail"]["created"], imported["detail"]["rejected"]) == (
        2,
        1,
        1,
    )
    exported = _entries(conn, action="export", actor=center.username)[-1]
    assert exported["rows"] == count >= 1
    stored = _entries(
        conn, action="insert", library="experts", external_id=rows[0].data["external_id"]
    )
    assert stored[0]["actor"] == center.username


def test_sign_ins_are_logged(conn, world, build):
    accounts.authenticate(conn=conn, username=world.usernames["expert"], password=build.PASSWORD)
    login = _entries(conn, action="login", actor=world.usernames["expert"])[-1]
    assert login["region"] == world.region_a


def test_a_sub_center_browses_its_regions_entries_only(conn, world, build):
    for region in (world.region_a, world.region_b):
        audit.record(conn, actor="someone", action="export", region=region, rows=1)
    center = world.users["subcenter_admin"]
    seen = audit.list_entries(conn=conn, principal=center, action="export", actor="someone")
    assert {e.region for e in seen.items} == {world.region_a}
    everything = audit.list_entries(
        conn=conn, principal=world.users["platform_admin"], action="export", actor="someone"
    )
    assert {e.region for e in everything.items} == {world.region_a, world.region_b}
    with pytest.raises(Forbidden):
        audit.list_entries(conn=conn, principal=world.users["enterprise"])


def test_a_role_granted_every_privilege_still_cannot_rewrite_history(conn, world):
    """A deployment's own application role, however it is granted, meets the trigger."""
    audit.record(conn, actor=world.users["platform_admin"], action="export", rows=1)
    conn.execute("CREATE ROLE greenplat_test_app NOLOGIN")
    conn.execute("GRANT ALL ON audit_log, audit_log_id_seq TO greenplat_test_app")
    conn.execute("SET LOCAL ROLE greenplat_test_app")
    for statement in ("UPDATE audit_log SET rows = 0", "DELETE FROM audit_log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(statement)
    conn.execute("INSERT INTO audit_log (action) VALUES ('export')")
