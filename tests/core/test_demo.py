"""The demo data loads completely, links owners and experts, and loading twice changes nothing."""

from __future__ import annotations

import json

import pytest

from greenplat.core.demo import loader


def _state(conn):
    return {
        table: conn.execute(
            f"SELECT count(*) AS n, max(updated_at) AS t FROM {table}"  # noqa: S608
        ).fetchone()
        for table in ("problems", "achievements", "experts")
    } | {
        "users": conn.execute("SELECT count(*) AS n FROM users").fetchone()["n"],
        "outbox": conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"],
        "events": conn.execute("SELECT count(*) AS n FROM problem_events").fetchone()["n"],
    }


def test_demo_load_is_complete_and_idempotent(conn):
    folder = loader.default_data_dir()
    report = loader.load(conn=conn)
    for kind in loader.ORDER:
        lines = [
            line for line in (folder / f"{kind}.jsonl").read_text("utf-8").splitlines() if line
        ]
        assert report.seen[kind] == len(lines)
    first = _state(conn)
    again = loader.load(conn=conn)
    assert sum(again.created.values()) == 0
    assert _state(conn) == first
    _check_links(conn, folder)


def _check_links(conn, folder):
    rows = [json.loads(x) for x in (folder / "problems.jsonl").read_text("utf-8").splitlines() if x]
    owned = [r for r in rows if r.get("owner_username")]
    assert owned
    for r in owned:
        got = conn.execute(
            "SELECT u.username FROM problems p JOIN users u ON u.id = p.owner_id "
            "WHERE p.external_id = %s",
            (r["external_id"],),
        ).fetchone()
        assert got["username"] == r["owner_username"]
        extra = conn.execute(
            "SELECT extra FROM problems WHERE external_id = %s", (r["external_id"],)
        ).fetchone()["extra"]
        assert "owner_username" not in extra
    accounts = [
        json.loads(x) for x in (folder / "accounts.jsonl").read_text("utf-8").splitlines() if x
    ]
    for a in (a for a in accounts if a.get("expert_external_id")):
        linked = conn.execute(
            "SELECT e.external_id FROM users u JOIN experts e ON e.id = u.expert_id "
            "WHERE u.username = %s",
            (a["username"],),
        ).fetchone()
        assert linked["external_id"] == a["expert_external_id"]


def test_a_broken_demo_file_names_file_and_line(conn, tmp_path):
    (tmp_path / "regions.jsonl").write_text(
        '{"code": "t1", "name": "测试省x", "subcenter_name": "测试分中心"}\n{"code": "t2"}\n',
        "utf-8",
    )
    with pytest.raises(loader.DemoDataError) as caught:
        loader.load(conn=conn, data_dir=tmp_path)
    assert "regions.jsonl:2" in caught.value.message
