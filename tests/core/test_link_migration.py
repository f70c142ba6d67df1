"""Migration 0400: notifications stored before the portal addressed records by external id
link to the external ids (quoted), and name the problem by its external id too."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from greenplat.core import links, migrate

ODD = "需求#1?a=b&c%"


def test_stored_notification_links_move_to_external_ids(conn, world, build):
    problem = build.problem(conn, region=world.region_a, organization=world.org_a)
    conn.execute("UPDATE problems SET external_id = %s WHERE id = %s", (ODD, problem["id"]))
    pid, eid = problem["id"], world.users["expert"].expert_id
    user = world.users["enterprise"].id
    old = {
        f"/problems/{pid}": links.problem(ODD),
        f"/problems/{pid}#pair-{eid}": links.anchor(links.problem(ODD), "pair-", world.expert_a),
        f"/expert/inbox#p{pid}": links.anchor("/expert/inbox", "p", ODD),
        f"/subcenter/review#p{pid}": links.anchor("/subcenter/review", "p", ODD),
        f"/messages/{pid}/{eid}": links.thread(ODD, world.expert_a),
        "/notifications": "/notifications",
    }
    for link in old:
        conn.execute(
            "INSERT INTO notifications (user_id, kind, problem_id, params, link)"
            " VALUES (%s, 'deal', %s, %s, %s)",
            (user, pid, Jsonb({"problem_id": pid}), link),
        )
    (sql,) = [text for version, text in migrate.migration_files() if version.startswith("0400")]
    conn.execute(sql)
    rows = conn.execute(
        "SELECT link, params FROM notifications WHERE problem_id = %s ORDER BY id", (pid,)
    ).fetchall()
    assert [r["link"] for r in rows] == list(old.values())
    assert {r["params"]["problem_id"] for r in rows} == {ODD}
    assert links.problem(ODD) == "/problems/%E9%9C%80%E6%B1%82%231%3Fa%3Db%26c%25"
