"""Schema migrations: numbered SQL files applied once each, in order, under a lock."""

from __future__ import annotations

from importlib import resources

import psycopg

# Any constant works; it only has to be the same in every process that migrates.
_MIGRATION_LOCK = 74_117_001


def migration_files() -> list[tuple[str, str]]:
    """All (version, sql) pairs shipped with the package, in order."""
    folder = resources.files("greenplat.core") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def applied_versions(conn: psycopg.Connection) -> set[str]:
    """Versions already applied to this database."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    return {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}


def upgrade(url: str) -> list[str]:
    """Apply every pending migration; returns the versions applied now."""
    done: list[str] = []
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        have = applied_versions(conn)
        for version, sql in migration_files():
            if version in have:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            done.append(version)
        conn.commit()
    return done
