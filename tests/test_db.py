from greenplat.core.db import on_commit
from greenplat.core.migrate import migration_files


def test_migrations_are_all_applied(conn):
    applied = {r["version"] for r in conn.execute("SELECT version FROM schema_migrations")}
    assert applied == {version for version, _ in migration_files()}


def test_vector_extension_is_present(conn):
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert row is not None


def test_on_commit_runs_after_commit_only(db):
    ran: list[str] = []
    with db.session() as c:
        on_commit(c, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    try:
        with db.session() as c:
            on_commit(c, lambda: ran.append("rolled back"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert ran == ["committed"]
