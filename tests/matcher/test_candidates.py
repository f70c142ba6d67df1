"""Candidate experts: past MAX_EXPERT_CANDIDATES, those the searches found first are kept."""

from __future__ import annotations

from greenplat.matcher import retrieval

QUERY = "reverse osmosis membranes fouling and heavy metals in industrial wastewater"


def _best_first(indexer, conn) -> list[int]:
    """Experts in order of their best position in any candidate list (a work's authors at the
    work's position), ties by id: the order the cut must keep."""
    best: dict[int, int] = {}
    authors = {
        r["id"]: r["expert_ids"]
        for r in conn.execute("SELECT id, expert_ids FROM achievements").fetchall()
    }
    ids = {
        r["external_id"]: r["id"]
        for r in conn.execute("SELECT id, external_id FROM experts").fetchall()
    }
    for mode in ("lexical", "vector"):
        for library, k in (
            ("achievements", retrieval.ACHIEVEMENT_DEPTH),
            ("experts", retrieval.EXPERT_DEPTH),
        ):
            text = " ".join(retrieval.top_terms(QUERY, retrieval.LEXICAL_TERMS))
            hits = indexer.search(
                library, conn=conn, text=text if mode == "lexical" else QUERY, k=k, mode=mode
            )
            for position, hit in enumerate(hits):
                found = (
                    [hit.record_id]
                    if library == "experts"
                    else [ids[a] for a in authors[hit.record_id] if a in ids]
                )
                for expert in found:
                    best[expert] = min(position, best.get(expert, position))
    return sorted(best, key=lambda e: (best[e], e))


def test_the_cut_keeps_the_experts_found_first(match_indexer, match_db, world, monkeypatch):
    with match_db.session() as conn:
        everyone = retrieval.candidate_experts(match_indexer, conn, QUERY)
        expected = _best_first(match_indexer, conn)
        assert {row["id"] for row in everyone} == set(expected)
        # The water expert's works and profile are what the query is about: first, although
        # other experts were stored before it.
        assert expected[0] == world.experts["water"] != min(expected)
        for cut in (1, 2, 3):
            monkeypatch.setattr(retrieval, "MAX_EXPERT_CANDIDATES", cut)
            kept = retrieval.candidate_experts(match_indexer, conn, QUERY)
            assert [row["id"] for row in kept] == expected[:cut]
