"""Withdrawing an achievement through the API: the same service as the portal, the same rules."""

from __future__ import annotations

import io

import pytest

from greenplat.core.interchange import service as interchange


@pytest.fixture
def work(client, tokens, db, platform, build):
    """An achievement the world's expert created through the API, indexed; removed after."""
    title = f"高炉煤气余压透平发电{build.uid()}"
    response = client.post(
        "/v1/achievements",
        json={"title": title, "abstract": "回收高炉煤气余压发电。", "kind": "technology"},
        headers=tokens["expert"],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    _index(platform, db, body["id"])
    yield body
    with db.session() as conn:
        conn.execute("DELETE FROM achievements WHERE id = %s", (body["id"],))
    _index(platform, db, body["id"])


def _index(platform, db, achievement_id: int) -> None:
    with db.session() as conn:
        platform.indexer.index_records(conn, {"achievements": [achievement_id]})


def _searchable(platform, db, title: str, achievement_id: int) -> bool:
    _index(platform, db, achievement_id)
    with db.session() as conn:
        hits = platform.indexer.search("achievements", conn=conn, text=title, mode="lexical")
    return achievement_id in {h.record_id for h in hits}


def _found(client, headers: dict, library: str, title: str) -> list[int]:
    """Ids of what a word search of the library by the title shows this reader."""
    page = client.get(
        "/v1/search",
        params={"text": title, "library": library, "mode": "lexical"},
        headers=headers,
    )
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


def _exported(db, external_id: str) -> bool:
    with db.session() as conn:
        records = interchange.iter_library(conn=conn, library="achievements")
        return any(r["external_id"] == external_id for r in records)


def test_withdrawn_achievement_leaves_search_lists_exports_and_other_readers(
    client, tokens, db, platform, work
):
    aid, title = work["id"], work["title"]
    assert _searchable(platform, db, title, aid) and _exported(db, work["external_id"])
    # Only those who manage it may withdraw it: not another region's sub-center.
    refused = client.post(f"/v1/achievements/{aid}/withdraw", headers=tokens["subcenter_b"])
    assert refused.status_code == 403
    response = client.post(f"/v1/achievements/{aid}/withdraw", headers=tokens["expert"])
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    assert not _searchable(platform, db, title, aid)
    assert not _exported(db, work["external_id"])
    assert client.get(f"/v1/achievements/{aid}", headers=tokens["enterprise"]).status_code == 404
    listed = client.get("/v1/achievements", params={"q": title}, headers=tokens["enterprise"])
    assert listed.json()["total"] == 0
    mine = client.get(
        "/v1/achievements",
        params={"expert_id": work["expert_ids"][0], "withdrawn": "true"},
        headers=tokens["expert"],
    )
    assert aid in [item["id"] for item in mine.json()["items"]]
    hidden = client.get(
        "/v1/achievements",
        params={"expert_id": work["expert_ids"][0], "withdrawn": "true"},
        headers=tokens["subcenter_b"],
    )
    assert hidden.json()["items"] == []
    assert (
        client.get(
            "/v1/achievements", params={"withdrawn": "true"}, headers=tokens["expert"]
        ).status_code
        == 422
    )
    # Its expert and its region's sub-center still read it.
    for who in ("expert", "subcenter_admin"):
        seen = client.get(f"/v1/achievements/{aid}", headers=tokens[who])
        assert seen.status_code == 200 and seen.json()["status"] == "withdrawn"
    with db.session() as conn:
        logged = conn.execute(
            "SELECT action FROM audit_log WHERE record_id = %s AND library = 'achievements'"
            " AND action IN ('withdraw', 'restore') ORDER BY id",
            (aid,),
        ).fetchall()
    assert [r["action"] for r in logged] == ["withdraw"]

    back = client.post(f"/v1/achievements/{aid}/restore", headers=tokens["subcenter_admin"])
    assert back.status_code == 200 and back.json()["status"] == "published"
    assert _searchable(platform, db, title, aid)
    assert client.get(f"/v1/achievements/{aid}", headers=tokens["enterprise"]).status_code == 200


def test_search_leaves_out_a_withdrawn_work_before_the_index_follows(
    client, tokens, db, platform, work
):
    """The index drops a withdrawn work when the outbox drains; until then its search hit is
    still there, and the search must not show the record (seen in the portal under load)."""
    aid, title = work["id"], work["title"]

    def found() -> list[int]:
        return _found(client, tokens["enterprise"], "achievements", title)

    assert aid in found()
    with db.session() as conn:  # withdrawn, the index not yet told
        conn.execute("UPDATE achievements SET status = 'withdrawn' WHERE id = %s", (aid,))
        hits = platform.indexer.search("achievements", conn=conn, text=title, mode="lexical")
    assert aid in {h.record_id for h in hits}
    assert aid not in found()
    with db.session() as conn:
        conn.execute("UPDATE achievements SET status = 'published' WHERE id = %s", (aid,))
    assert aid in found()


def test_matching_leaves_out_an_experts_withdrawn_work(client, tokens, db, work, world):
    from greenplat.matcher import affinity

    with db.session() as conn:
        expert = conn.execute(
            "SELECT * FROM experts WHERE external_id = %s", (world.expert_a,)
        ).fetchone()
        before = [w.title for w in affinity.load_works(conn, [expert])[expert["id"]]]
    assert work["title"] in before
    client.post(f"/v1/achievements/{work['id']}/withdraw", headers=tokens["expert"])
    with db.session() as conn:
        after = [w.title for w in affinity.load_works(conn, [expert])[expert["id"]]]
    assert work["title"] not in after


def test_import_templates_and_report_over_the_api(client, tokens):
    template = client.get("/v1/imports/templates/experts.csv", headers=tokens["expert"])
    assert template.status_code == 200
    assert template.content.decode("utf-8-sig").splitlines()[0].startswith("external_id,name,")
    bad = client.get("/v1/imports/templates/people.csv", headers=tokens["expert"])
    assert bad.status_code == 422 and "library" in bad.text
    assert client.get("/v1/imports/templates/experts.csv").status_code == 401


def test_an_xlsx_with_chinese_headers_imports_and_its_report_downloads(
    client, tokens, world, build
):
    from openpyxl import Workbook, load_workbook

    from .test_imports import upload, wait_for

    book = Workbook()
    sheet = book.active
    sheet.append(["外部编号", "姓名", "职称", "研究领域", "地区", "容量"])
    good = f"XZ-{build.uid()}"
    sheet.append([good, "钱中文", "教授", "热能工程", world.region_a, 2])
    sheet.append([f"XZ-{build.uid()}", "容量错", None, None, None, -3])
    out = io.BytesIO()
    book.save(out)
    admin = tokens["platform_admin"]
    job = upload(client, admin, "experts", "中文.xlsx", out.getvalue()).json()
    done = wait_for(client, admin, job["id"])
    assert (done["created"], done["rejected"]) == (1, 1)
    report = client.get(f"/v1/imports/{job['id']}/report.xlsx?lang=en", headers=admin)
    assert report.status_code == 200
    rows = list(load_workbook(io.BytesIO(report.content)).worksheets[0].values)
    assert rows[0][:3] == ("row", "field", "reason")
    assert rows[1][:2] == (3, "Capacity") and rows[1][2].startswith("capacity: ")
    assert "容量错" in rows[1]
    other = client.get(f"/v1/imports/{job['id']}/report.csv", headers=tokens["subcenter_admin"])
    assert other.status_code == 404


@pytest.mark.parametrize(
    "change",
    ["status = 'closed'", "confidential = TRUE", "status = 'returned'"],
    ids=["closed", "made-confidential", "back-to-review"],
)
def test_problem_search_checks_the_row_before_the_index_follows(
    client, tokens, db, platform, world, build, change
):
    """The index's copy of a problem's status and confidentiality lags a change until the
    outbox drains; a search must not show the problem to a reader who may no longer find it
    meanwhile (the expert of region A, who reads approved problems that are not confidential)."""
    title = f"回转窑尾气余热梯级利用{build.uid()}"
    with db.session() as conn:
        problem = build.problem(conn, region=world.region_a, organization=world.org_a, title=title)
    with db.session() as conn:
        platform.indexer.index_records(conn, {"problems": [problem["id"]]})

    def found() -> list[int]:
        return _found(client, tokens["expert"], "problems", title)

    try:
        assert problem["id"] in found()
        with db.session() as conn:  # changed, the index not yet told
            conn.execute(f"UPDATE problems SET {change} WHERE id = %s", (problem["id"],))
            hits = platform.indexer.search("problems", conn=conn, text=title, mode="lexical")
        assert problem["id"] in {h.record_id for h in hits}
        assert problem["id"] not in found()
    finally:
        with db.session() as conn:
            conn.execute("DELETE FROM problems WHERE id = %s", (problem["id"],))
            platform.indexer.index_records(conn, {"problems": [problem["id"]]})
