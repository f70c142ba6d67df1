"""Near-duplicates: fingerprints, imports, the poster's check, merging and statistics."""

from __future__ import annotations

import pytest

from greenplat.core.achievements import service as achievements
from greenplat.core.duplicates import fingerprint as fp
from greenplat.core.duplicates import review
from greenplat.core.duplicates import service as duplicates
from greenplat.core.errors import Forbidden
from greenplat.core.interchange import service as interchange
from greenplat.core.interchange.formats import Row
from greenplat.core.permissions import SYSTEM
from greenplat.core.problems import service as problems
from greenplat.core.stats import service as stats

TITLE = "储能电站磷酸铁锂电池热失控早期预警"
TEXT = (
    "公司运营的储能电站总规模约600 MWh，采用280 Ah磷酸铁锂电芯和集装箱式布置。现有BMS仅依据电压和"
    "温度告警，热失控发生前的预警时间不足1分钟，难以及时联动消防。需要融合电压、温度、气体、压力等"
    "多源信号的早期预警方法和相应传感方案，目标是在热失控前10分钟以上给出可信预警。"
)
PARAPHRASE = TEXT.replace("需要", "希望获得").replace("，难以及时联动消防", "") + "请联系我们。"
OTHER = (
    "注塑车间PC外壳表面出现银纹和气痕，良率仅92%。怀疑原料干燥不足与模温波动有关，"
    "希望合作优化干燥工艺和模温控制，把良率提高到99%以上，并给出在线检测方案。"
)


def test_fingerprints_see_through_spacing_and_paraphrase_but_not_other_texts():
    assert fp.exact_key(TITLE, TEXT) == fp.exact_key(f" {TITLE}！", TEXT.replace("，", ", "))
    mine = fp.shingles(f"{TITLE}。{TEXT}")
    assert fp.jaccard(mine, fp.shingles(f"{TITLE}。{PARAPHRASE}")) >= 0.5
    assert fp.jaccard(mine, fp.shingles(f"注塑件银纹。{OTHER}")) < 0.1


def _row(line, external_id, org, text=TEXT, title=TITLE, region="江苏省"):
    data = {"external_id": external_id, "title": title, "description": text,
            "organization": org, "region": region, "status": "submitted"}  # fmt: skip
    return Row(line, data)


def test_an_exact_duplicate_under_a_new_id_creates_nothing(conn, build):
    org, tag = f"华储{build.uid()}", build.uid()
    rows = [
        _row(1, f"PRB-{tag}-1", org),
        _row(2, f"PRB-{tag}-2", org, text=TEXT.replace("。", ". ")),
        _row(3, f"PRB-{tag}-3", org, text=PARAPHRASE),
        _row(4, f"PRB-{tag}-4", f"别家{tag}"),
        _row(5, f"PRB-{tag}-5", org, title="注塑件银纹", text=OTHER),
    ]
    report = interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    assert report.created == 4
    assert [r.line for r in report.rejected] == [2]
    assert f"PRB-{tag}-1" in report.rejected[0].reason and "完全相同" in report.rejected[0].reason
    assert [(line, s.external_id) for line, s in report.duplicates] == [(3, f"PRB-{tag}-1")]
    stored = conn.execute(
        "SELECT count(*) AS n FROM problems WHERE external_id LIKE %s", (f"PRB-{tag}-%",)
    ).fetchone()
    assert stored["n"] == 4
    # Importing the same file again updates the rows by external_id; nothing is doubled.
    again = interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    assert (again.created, again.updated) == (0, 4)


def test_a_poster_is_warned_of_its_own_organizations_similar_problem(conn, world, build):
    first = build.problem(
        conn, region=world.region_a, organization=world.org_a, title=TITLE, description=TEXT
    )
    build.problem(conn, region=world.region_a, organization=world.org_other, title=TITLE,
                  description=OTHER)  # fmt: skip
    args = {"conn": conn, "library": "problems", "title": TITLE, "body": PARAPHRASE}
    suspects = review.check(principal=world.users["enterprise"], **args)
    assert [s.external_id for s in suspects] == [first["external_id"]]
    # Another enterprise learns nothing of org A's problems.
    assert review.check(principal=world.users["enterprise2"], **args) == []


def test_a_sub_center_merges_a_pair_and_the_statistics_count_it_once(conn, world, build):
    center = world.users["subcenter_admin"]
    org, tag = f"合并{build.uid()}", build.uid()
    rows = [_row(1, f"M-{tag}-1", org, region=world.region_a),
            _row(2, f"M-{tag}-2", org, text=PARAPHRASE, region=world.region_a)]  # fmt: skip
    interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    pairs = review.list_pairs(conn=conn, principal=center, library="problems")
    assert {(p["record"], p["other"]) for p in pairs} >= {(f"M-{tag}-2", f"M-{tag}-1")}
    assert (
        review.list_pairs(conn=conn, principal=world.users["subcenter_b"], library="problems") == []
    )
    decision = {"library": "problems", "record": f"M-{tag}-2", "other": f"M-{tag}-1"}
    with pytest.raises(Forbidden):
        review.decide(
            conn=conn, principal=world.users["subcenter_b"], decision="merged", **decision
        )
    before = stats.summary(conn=conn, principal=center)["posted"]
    review.decide(conn=conn, principal=center, decision="merged", **decision)
    assert stats.summary(conn=conn, principal=center)["posted"] == before - 1
    logged = conn.execute(
        "SELECT actor FROM audit_log WHERE action = 'merge' AND external_id = %s",
        (f"M-{tag}-2",),
    ).fetchone()
    assert logged["actor"] == center.username


def test_a_pair_marked_distinct_leaves_the_queue(conn, world, build):
    center = world.users["subcenter_admin"]
    org, tag = f"区分{build.uid()}", build.uid()
    rows = [_row(1, f"D-{tag}-1", org, region=world.region_a),
            _row(2, f"D-{tag}-2", org, text=PARAPHRASE, region=world.region_a)]  # fmt: skip
    interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    review.decide(conn=conn, principal=center, library="problems", record=f"D-{tag}-2",
                  other=f"D-{tag}-1", decision="distinct")  # fmt: skip
    open_pairs = review.list_pairs(conn=conn, principal=center, library="problems")
    assert f"D-{tag}-2" not in {p["record"] for p in open_pairs}
    distinct = review.list_pairs(conn=conn, principal=center, library="problems", status="distinct")
    assert f"D-{tag}-2" in {p["record"] for p in distinct}


def _traces(conn, library: str, record_id: int) -> tuple[int, int]:
    """(fingerprints, pairs) that name the record."""
    prints = conn.execute(
        "SELECT count(*) AS n FROM record_fingerprints WHERE library = %s AND record_id = %s",
        (library, record_id),
    ).fetchone()["n"]
    pairs = conn.execute(
        "SELECT count(*) AS n FROM duplicate_pairs WHERE library = %s"
        " AND (record_id = %s OR other_id = %s)",
        (library, record_id, record_id),
    ).fetchone()["n"]
    return prints, pairs


def test_deleting_a_record_takes_its_fingerprint_and_pairs_with_it(conn, build):
    org, tag = f"删除{build.uid()}", build.uid()
    rows = [_row(1, f"D-{tag}-1", org), _row(2, f"D-{tag}-2", org, text=PARAPHRASE)]
    interchange.import_rows(conn=conn, principal=SYSTEM, library="problems", rows=rows)
    first = conn.execute(
        "SELECT id FROM problems WHERE external_id = %s", (f"D-{tag}-1",)
    ).fetchone()["id"]
    assert _traces(conn, "problems", first) == (1, 1)
    problems.delete(conn=conn, principal=SYSTEM, problem_id=first)
    assert _traces(conn, "problems", first) == (0, 0)
    # The same text posted again is no longer an exact duplicate of the deleted record.
    again = interchange.import_rows(
        conn=conn, principal=SYSTEM, library="problems", rows=[_row(1, f"D-{tag}-3", org)]
    )
    assert again.created == 1 and again.rejected == []

    work = build.achievement(conn, expert_ids=[], organization=org, title=TITLE, abstract=TEXT)
    duplicates.remember(conn, "achievements", work["id"], [])
    assert _traces(conn, "achievements", work["id"]) == (1, 0)
    achievements.delete(conn=conn, principal=SYSTEM, achievement_id=work["id"])
    assert _traces(conn, "achievements", work["id"]) == (0, 0)
