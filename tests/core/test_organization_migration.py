"""Migration 0003 on a database written before organizations were records: names become
records, ownership moves to ids, and an account that took over an organization by typing
its name at sign-up waits for approval instead."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from greenplat.core import migrate


def _legacy_database(db) -> str:
    name = f"greenplat_legacy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(db.url, dbname=name)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.applied_versions(conn)
        for version, sql in migrate.migration_files():
            if version < "0003":
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
    return url


def test_migration_links_by_id_and_sends_later_namesakes_to_approval(db):
    url = _legacy_database(db)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("INSERT INTO regions (code, name, subcenter_name) VALUES ('js', '江苏', 'c')")
        conn.execute("INSERT INTO organizations (name, kind) VALUES ('华储', 'enterprise')")
        for username, role, org in (
            ("owner", "enterprise", "华储"),
            ("center", "subcenter_admin", "江苏分中心"),
            ("evil", "enterprise", "华储"),
        ):
            conn.execute(
                "INSERT INTO users (username, password_hash, role, region, organization)"
                " VALUES (%s, 'x', %s, '江苏', %s)",
                (username, role, org),
            )
        conn.execute(
            "INSERT INTO problems (external_id, title, description, organization, owner_id)"
            " VALUES ('P-1', 't', 'd', '华储', (SELECT id FROM users WHERE username = 'owner')),"
            " ('P-2', 't', 'd', '导入企业', NULL)"
        )

    assert "0003_organization_membership" in migrate.upgrade(url)

    with psycopg.connect(url, row_factory=dict_row) as conn:
        users = {
            r["username"]: r
            for r in conn.execute(
                "SELECT u.username, u.organization_id, o.name FROM users u"
                " LEFT JOIN organizations o ON o.id = u.organization_id"
            )
        }
        assert users["owner"]["name"] == "华储"
        assert users["center"]["name"] == "江苏分中心"
        assert users["evil"]["organization_id"] is None
        pending = conn.execute(
            "SELECT u.username, o.name FROM organization_requests r JOIN users u"
            " ON u.id = r.user_id JOIN organizations o ON o.id = r.organization_id"
            " WHERE r.status = 'pending'"
        ).fetchall()
        assert pending == [{"username": "evil", "name": "华储"}]
        problems = {
            r["external_id"]: r["name"]
            for r in conn.execute(
                "SELECT p.external_id, o.name FROM problems p"
                " JOIN organizations o ON o.id = p.organization_id"
            )
        }
        assert problems == {"P-1": "华储", "P-2": "导入企业"}
        assert conn.execute("SELECT bool_and(verified) AS v FROM organizations").fetchone()["v"]
        column = conn.execute(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_name = 'users' AND column_name = 'organization'"
        ).fetchone()
        assert column is None
