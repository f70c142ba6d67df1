"""The search backend contract: every backend passes the same tests (PostgreSQL always,
Elasticsearch when GREENPLAT_ES_URL names a cluster)."""

from __future__ import annotations

import numpy as np
import pytest

from greenplat.core.permissions import VISITOR, Principal
from greenplat.indexer.search import SearchFilters

BATTERY = ("废旧锂电池回收中的正极材料再生", "研究从退役动力电池中回收钴、镍、锂，并再生正极材料。")
CROPS = (
    "Crop disease detection",
    "Deep learning detects leaf diseases of wheat from drone images.",
)
STEEL = ("Steel slag utilisation", "Converter steel slag is ground and used in cement and roads.")


def ids(hits):
    return [hit.record_id for hit in hits]


def test_lexical_search_finds_chinese_words_segmented_by_jieba(iconn, any_indexer, any_records):
    battery = any_records.achievement(*BATTERY, keywords=["锂电池", "回收"])
    any_records.achievement(*CROPS)
    any_indexer.sync_pending()

    for query in ("锂电池", "正极材料", "动力电池回收"):
        hits = any_indexer.search("achievements", text=query, mode="lexical", conn=iconn)
        assert ids(hits) == [battery], query
        assert hits[0].lexical_rank == 1 and hits[0].vector_rank is None
    assert any_indexer.search("achievements", text="水泥道路", mode="lexical", conn=iconn) == []


def test_lexical_search_matches_english_words_in_any_case(iconn, any_indexer, any_records):
    crops = any_records.achievement(*CROPS)
    any_records.achievement(*STEEL)
    any_indexer.sync_pending()

    assert ids(
        any_indexer.search("achievements", text="WHEAT Drone", mode="lexical", conn=iconn)
    ) == [crops]


def test_term_counts_count_the_records_holding_each_term_within_the_filters(
    iconn, any_indexer, any_records
):
    battery = any_records.achievement(*BATTERY, keywords=["锂电池", "回收"])
    any_records.achievement("锂电池热失控预警", "储能电站锂电池的热失控早期预警。")
    any_records.achievement(*CROPS)
    any_indexer.sync_pending()

    backend, everything = any_indexer.backend, SearchFilters()
    counts = backend.term_counts(iconn, "achievements", ["锂电池", "正极", "仿真"], everything, 10)
    assert counts == {"锂电池": 2, "正极": 1, "仿真": 0}
    assert backend.term_counts(iconn, "achievements", ["锂电池"], everything, 1) == {"锂电池": 1}
    others = SearchFilters(exclude_ids=(battery,))
    assert backend.term_counts(iconn, "achievements", ["锂电池", "正极"], others, 10) == {
        "锂电池": 1,
        "正极": 0,
    }
    assert backend.term_counts(iconn, "problems", ["锂电池"], everything, 10) == {"锂电池": 0}


def test_an_english_query_meets_a_chinese_record_through_the_words_it_holds(
    iconn, any_indexer, any_records
):
    # 锌 (zinc) is one character: only the library holding it makes it a safe translation.
    furnace = any_records.achievement("高炉锌平衡", "某1780立方米高炉的锌负荷与锌平衡分析。")
    any_records.achievement(*CROPS)
    any_indexer.sync_pending()

    hits = any_indexer.search("achievements", text="Zinc oxide", conn=iconn)
    assert hits[0].record_id == furnace and hits[0].lexical_rank == 1


def test_vector_search_finds_by_meaning_without_shared_words(iconn, any_indexer, any_records):
    crops = any_records.achievement(*CROPS)
    any_records.achievement(*STEEL)
    any_records.achievement(*BATTERY)
    any_indexer.sync_pending()

    hits = any_indexer.search(
        "achievements",
        text="recognising plant illness in aerial pictures",
        mode="vector",
        conn=iconn,
    )
    assert hits[0].record_id == crops
    assert hits[0].vector_rank == 1 and 0.3 < hits[0].vector_score <= 1.0
    assert hits[0].score == hits[0].vector_score
    assert any_indexer.search("achievements", text="plant", mode="lexical", conn=iconn) == []


def test_hybrid_search_fuses_both_rankings(iconn, any_indexer, any_records):
    crops = any_records.achievement(*CROPS)
    steel = any_records.achievement(*STEEL)
    any_indexer.sync_pending()

    hits = any_indexer.search("achievements", text="wheat leaf disease", k=2, conn=iconn)
    assert ids(hits) == [crops, steel]
    top = hits[0]
    assert top.lexical_rank == 1 and top.vector_rank == 1
    assert top.score > hits[1].score
    assert top.external_id.startswith("A-")


def test_filters_apply_inside_the_search_not_after(iconn, any_indexer, any_records):
    # Twenty better matches elsewhere: a post-filter over the top k would find nothing.
    for i in range(20):
        any_records.problem(
            f"Battery recycling line {i}", "Recycle lithium battery cells.", region="江苏"
        )
    wanted = any_records.problem(
        "Battery reuse", "Second life for old battery packs.", region="浙江"
    )
    any_indexer.sync_pending()

    only_zhejiang = SearchFilters(region="浙江")
    for mode in ("lexical", "vector", "hybrid"):
        hits = any_indexer.search(
            "problems", text="battery recycling", filters=only_zhejiang, k=1, mode=mode, conn=iconn
        )
        assert ids(hits) == [wanted], mode


def test_filters_on_status_industry_discipline_and_kind(iconn, any_indexer, any_records):
    draft = any_records.problem(
        "Water treatment", "Treat mine water.", status="draft", industry="mining"
    )
    approved = any_records.problem(
        "Water treatment plant", "Treat river water.", industry="utilities"
    )
    patent = any_records.achievement(
        "Water filter", "A membrane water filter.", kind="patent", discipline="环境工程"
    )
    paper = any_records.achievement(
        "Water study", "Water quality survey.", kind="paper", discipline="化学"
    )
    any_indexer.sync_pending()

    def found(library, **filters):
        hits = any_indexer.search(
            library, text="water", filters=SearchFilters(**filters), conn=iconn
        )
        return set(ids(hits))

    assert found("problems", status=["draft"]) == {draft}
    assert found("problems", industry="utilities") == {approved}
    assert found("achievements", kind=["patent"]) == {patent}
    assert found("achievements", discipline=["化学"]) == {paper}
    assert found("achievements") == {patent, paper}


def test_problem_visibility_follows_the_permission_table(iconn, any_indexer, any_records):
    jia, yi = any_records.organization("甲公司"), any_records.organization("乙公司")
    draft = any_records.problem(
        "Hydrogen storage", "Store hydrogen safely.", status="draft", organization_id=jia
    )
    public = any_records.problem("Hydrogen pipeline", "Hydrogen transport.", region="浙江")
    secret = any_records.problem(
        "Hydrogen tank",
        "Secret hydrogen tank.",
        confidential=True,
        organization_id=jia,
        region="江苏",
    )
    any_indexer.sync_pending()

    def visible(principal, **more):
        filters = SearchFilters(principal=principal, **more)
        return set(
            ids(any_indexer.search("problems", text="hydrogen", filters=filters, conn=iconn))
        )

    expert = Principal(id=7, username="e", role="expert")
    owner = Principal(id=8, username="o", role="enterprise", organization_id=jia)
    other = Principal(id=9, username="x", role="enterprise", organization_id=yi)
    # The name alone grants nothing: ownership is by organization id.
    namesake = Principal(id=12, username="n", role="enterprise", organization="甲公司")
    jiangsu = Principal(id=10, username="s", role="subcenter_admin", region="江苏")
    admin = Principal(id=11, username="a", role="platform_admin")

    assert visible(expert) == {public}
    assert visible(other) == {public}
    assert visible(namesake) == {public}
    assert visible(owner) == {draft, public, secret}
    assert visible(jiangsu) == {secret}
    assert visible(admin) == {draft, public, secret}
    assert visible(admin, include_confidential=False) == {draft, public}
    # A visitor who has not signed in: published and not confidential, nothing redacted.
    assert visible(VISITOR) == {public}


def test_changes_and_deletions_reach_the_index(iconn, any_indexer, any_records):
    record = any_records.expert("王工", "Designs heat pumps for district heating.")
    gone = any_records.expert("李工", "Heat exchanger fouling.")
    any_indexer.sync_pending()
    assert set(ids(any_indexer.search("experts", text="heat", mode="lexical", conn=iconn))) == {
        record,
        gone,
    }

    any_records.update("experts", record, bio="Designs offshore wind turbine foundations.")
    any_records.delete("experts", gone)
    assert any_indexer.sync_pending() == 2

    assert any_indexer.search("experts", text="heat", mode="lexical", conn=iconn) == []
    assert ids(any_indexer.search("experts", text="wind turbine", mode="lexical", conn=iconn)) == [
        record
    ]
    assert ids(any_indexer.search("experts", text="王工", mode="lexical", conn=iconn)) == [record]
    with any_indexer.db.session() as conn:
        assert set(any_indexer.backend.fingerprints(conn, "experts")) == {record}
        assert any_indexer.backend.count(conn, "experts") == 1


def test_replaying_the_outbox_neither_loses_nor_doubles(iconn, any_indexer, any_records):
    made = [any_records.achievement(f"Solar cell {i}", "Perovskite solar cell.") for i in range(5)]
    assert any_indexer.sync_pending() == 5
    with any_indexer.db.session() as conn:
        conn.execute("UPDATE outbox SET processed_at = NULL")
        for record_id in made[:2]:
            conn.execute(
                "INSERT INTO outbox (library, record_id, op) VALUES ('achievements', %s, 'upsert')",
                (record_id,),
            )
    assert any_indexer.sync_pending() == 7
    assert any_indexer.sync_pending() == 0

    hits = any_indexer.search("achievements", text="perovskite solar", k=50, conn=iconn)
    assert sorted(ids(hits)) == sorted(made)
    report = any_indexer.verify(repair=False)
    assert report["drift"] == 0


def test_stored_vectors_of_records_and_of_expert_profiles(iconn, any_indexer, any_records):
    alice = any_records.expert("Alice", "Battery chemist.", external_id="E-alice")
    first = any_records.achievement(*BATTERY, expert_ids=["E-alice"])
    second = any_records.achievement(*CROPS, expert_ids=["E-alice", "E-carol"])
    any_indexer.sync_pending()
    model = any_indexer.models[0]

    vectors = any_indexer.get_vectors("achievements", [first, second, 999], model=model, conn=iconn)
    assert set(vectors) == {first, second}
    assert np.isclose(np.linalg.norm(vectors[first]), 1.0, atol=1e-3)
    assert any_indexer.get_vectors("achievements", [], model=model, conn=iconn) == {}
    profile = any_indexer.get_vectors("experts", [alice], model=model, conn=iconn)[alice]
    expected = any_indexer.encode_passages(["Battery chemist."], conn=iconn, model=model)[0]
    assert float(profile @ expected) > 0.999

    # Cosines computed where the vectors are equal those of the vectors fetched.
    query = any_indexer.query_vector("lithium battery", model=model)
    sims = any_indexer.similarities(
        "achievements", [first, second, 999], query, model=model, conn=iconn
    )
    assert set(sims) == {first, second}
    for record_id, sim in sims.items():
        assert abs(sim - float(vectors[record_id] @ query)) < 1e-5
    assert any_indexer.similarities("experts", [], query, model=model, conn=iconn) == {}


def test_verify_finds_and_repairs_drift(iconn, any_indexer, any_records):
    kept = any_records.problem("Noise barrier", "Highway noise barrier.")
    lost = any_records.problem("Noise sensor", "Cheap noise sensor.")
    any_indexer.sync_pending()
    with any_indexer.db.session() as conn:
        # Drift the outbox never announced: a lost index entry, an unannounced edit.
        any_indexer.backend.write(conn, "problems", [], [lost])
        conn.execute("UPDATE problems SET title = 'Quiet asphalt' WHERE id = %s", (kept,))

    report = any_indexer.verify(repair=False)
    assert report["problems"] == {"missing": 1, "stale": 1, "extra": 0}
    report = any_indexer.verify(repair=True)
    assert report["repaired"] == 2
    assert any_indexer.verify(repair=False)["drift"] == 0
    assert ids(any_indexer.search("problems", text="asphalt", mode="lexical", conn=iconn)) == [kept]


def test_rebuild_reindexes_every_record_and_drops_orphans(iconn, any_indexer, any_records):
    made = [any_records.achievement(f"Wind blade {i}", "Composite wind blade.") for i in range(3)]
    any_indexer.sync_pending()
    with any_indexer.db.session() as conn:
        conn.execute("DELETE FROM achievements WHERE id = %s", (made[0],))  # never announced

    counts = any_indexer.rebuild(progress=False)
    assert counts == {"problems": 0, "achievements": 2, "experts": 0}
    assert (
        sorted(ids(any_indexer.search("achievements", text="wind blade", conn=iconn))) == made[1:]
    )
    assert any_indexer.verify(repair=False)["drift"] == 0


@pytest.mark.parametrize("bad", [{"library": "patents"}, {"mode": "fuzzy"}, {"k": 0}])
def test_bad_search_requests_name_the_field(iconn, any_indexer, bad):
    from greenplat.core.errors import InvalidInput

    args = {"library": "problems", "mode": "hybrid", "k": 10} | bad
    library = args.pop("library")
    with pytest.raises(InvalidInput) as error:
        any_indexer.search(library, text="x", **args, conn=iconn)
    assert error.value.field == next(iter(bad))


def test_records_holding_every_query_word_rank_first(iconn, any_indexer, any_records):
    panel = any_records.achievement("Solar panel cleaning", "Robots clean solar panels.")
    both = any_records.achievement("Solar inverter", "A grid-forming inverter for solar farms.")
    cooling = any_records.achievement("Inverter cooling", "Liquid cooling of inverter modules.")
    any_indexer.sync_pending()

    hits = any_indexer.search(
        "achievements", text="solar inverter", mode="lexical", k=3, conn=iconn
    )
    assert ids(hits)[0] == both
    assert set(ids(hits)) == {panel, both, cooling}
    assert ids(
        any_indexer.search("achievements", text="solar inverter", mode="lexical", k=1, conn=iconn)
    ) == [both]
