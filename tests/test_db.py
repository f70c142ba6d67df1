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


def test_embedded_server_asks_for_a_buffer_cache_sized_to_the_memory(db, settings):
    import psycopg
    import pytest

    from greenplat.core.db import SHARED_BUFFERS_MAX_MB, shared_buffers_mb

    if settings.database_url:
        pytest.skip("an external PostgreSQL is tuned by its owner")
    want = shared_buffers_mb()
    assert 128 <= want <= SHARED_BUFFERS_MAX_MB
    with psycopg.connect(db.url) as conn:
        now = conn.execute(
            "SELECT setting::bigint * 8192 / 1048576 FROM pg_settings WHERE name = 'shared_buffers'"
        ).fetchone()[0]
        asked = conn.execute(
            "SELECT setting FROM pg_file_settings"
            " WHERE name = 'shared_buffers' ORDER BY seqno DESC LIMIT 1"
        ).fetchone()
    # Applied already (a restarted server), or asked for from the next start.
    assert now >= want or (asked is not None and asked[0] == f"{want}MB")
