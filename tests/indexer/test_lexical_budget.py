"""The any-term fallback of the PostgreSQL lexical search ranks a bounded share of a library."""

from __future__ import annotations

import time

import pytest

from greenplat.indexer import pgbackend
from greenplat.indexer.pgbackend import PostgresBackend
from greenplat.indexer.search import SearchFilters


def _backend_with_statistics(shares: dict[str, float], documents: float) -> PostgresBackend:
    """A backend whose cached ANALYZE statistics are these (as _term_shares reads them)."""
    backend = PostgresBackend()
    backend._frequent, backend._documents = shares, documents
    backend._frequent_at = time.monotonic()
    return backend


def test_rarest_terms_are_kept_until_their_documents_exceed_the_budget():
    budget = pgbackend.LEXICAL_FALLBACK_BUDGET
    documents = 100 * budget
    shares = {"common": 0.04, "middle": 0.008, "rarer": 0.004, "frequent": 0.5}
    backend = _backend_with_statistics(shares, documents)

    kept = backend._rare_terms(None, ["common", "frequent", "unseen", "middle", "rarer"])

    # Unseen terms (below ANALYZE's horizon) first, then by share; "middle" would take the
    # estimate past the budget, and a term in over FREQUENT_TERM_SHARE never counts.
    assert kept == ["unseen", "rarer"]
    assert sum(shares.get(t, 0.0) for t in kept) * documents <= budget


def test_one_term_is_always_kept_and_small_libraries_keep_every_term():
    backend = _backend_with_statistics({"common": 0.04}, 1e6)
    assert backend._rare_terms(None, ["common"]) == ["common"]

    small = _backend_with_statistics({}, 0.0)  # below FREQUENT_TERMS_MIN_DOCUMENTS: no stats
    assert small._rare_terms(None, ["a", "b", "c"]) == ["a", "b", "c"]


def test_word_search_reads_only_its_library_index(conn):
    """Each library has its own word index (migration 0430); a search must plan with it, not
    intersect the whole table's matches with a bitmap of every row of the library, and keep
    doing so once psycopg prepares the statement (prepared plans may turn generic)."""
    backend = PostgresBackend()
    # Enough documents of both libraries that an index beats reading the table; each holds
    # its own term and one the library shares.
    for library in ("achievements", "experts"):
        conn.execute(
            "INSERT INTO search_documents (library, record_id, external_id, lexemes, content_hash)"
            " SELECT %s, 1000000 + g, 'T-' || g, ('w' || g || ' common')::tsvector, '-'"
            " FROM generate_series(1, 3000) g",
            (library,),
        )
    conn.execute("ANALYZE search_documents")
    plans = []
    original = conn.execute

    def explain(query, params=None, **kwargs):
        if isinstance(query, str) and "ts_rank" in query:
            rows = original("EXPLAIN " + query, params, **kwargs).fetchall()
            plans.append("\n".join(str(next(iter(r.values()))) for r in rows))
        return original(query, params, **kwargs)

    conn.execute = explain  # type: ignore[method-assign]
    for _ in range(7):  # past psycopg's prepare threshold (5)
        for library in ("achievements", "experts"):
            backend.search_lexical(conn, library, ["w17", "w18"], SearchFilters(), 10)
    for plan in plans[-4:]:
        assert "search_documents_lexemes_" in plan, plan
        assert "BitmapAnd" not in plan, plan
    assert any("lexemes_achievements_idx" in p for p in plans[-4:])
    assert any("lexemes_experts_idx" in p for p in plans[-4:])


def test_unknown_library_is_refused():
    with pytest.raises(ValueError):
        pgbackend.filter_sql("users", SearchFilters())


def _two_steps(backend, conn, library, query_terms, filters, k):
    """The word search as two statements (records holding every term, then the rarer terms'
    fallback past them): what search_lexical's one statement must return."""
    from dataclasses import replace

    from greenplat.indexer.analysis import tsquery_literal

    every = backend._lexical(conn, library, tsquery_literal(query_terms, "&"), filters, k)
    some = backend._rare_terms(conn, list(dict.fromkeys(query_terms)))
    if len(every) >= k:
        return every
    rest = replace(filters, exclude_ids=filters.exclude_ids + tuple(c.record_id for c in every))
    return every + backend._lexical(conn, library, tsquery_literal(some, "|"), rest, k - len(every))


@pytest.mark.parametrize("k", [3, 8, 40])
def test_one_statement_ranks_as_the_every_term_search_then_its_fallback(conn, k):
    """Records holding every term first (by their rank against all terms), then the rarer
    terms' records (by theirs), as the two statements it replaced; with k at most the records
    holding every term, only those."""
    rows = []
    for i in range(60):
        words = ["rare"] * (i % 3 + 1) + ["mid"] * (i % 2) + ["common", f"x{i}"]
        if i % 7 == 0:
            # Holds every term of the query, far apart: its rank by all the terms is below
            # what the short texts get by the fallback's rarer terms.
            gap = [f"y{j}" for j in range(100)]
            words = ["alpha", *gap, "beta", *gap, "rare", *gap, "mid", *gap, "common"]
        rows.append((2_000_000 + i, f"L-{i}", " ".join(words)))
    for record_id, external_id, text in rows:
        conn.execute(
            "INSERT INTO search_documents (library, record_id, external_id, lexemes,"
            " content_hash) VALUES ('achievements', %s, %s, to_tsvector('simple', %s), '-')",
            (record_id, external_id, text),
        )
    # "common" is too frequent for the fallback; "rare" and "mid" are kept.
    backend = _backend_with_statistics({"common": 0.9, "mid": 0.004, "rare": 0.004}, 1e5)
    query = ["alpha", "beta", "rare", "mid", "common"]
    filters = SearchFilters(exclude_ids=(2_000_007,))

    found = backend.search_lexical(conn, "achievements", query, filters, k)

    expected = _two_steps(backend, conn, "achievements", query, filters, k)
    holding_all = {2_000_000 + i for i in range(0, 60, 7)} - {2_000_007}
    if k > len(holding_all):  # the fallback's best outranks those records on its own
        assert expected[len(holding_all)].score > expected[len(holding_all) - 1].score
    assert [(c.record_id, round(c.score, 6)) for c in found] == [
        (c.record_id, round(c.score, 6)) for c in expected
    ]
    assert len(found) == k
    head = [c.record_id for c in found[: len(holding_all)]]
    assert set(head) == holding_all if k >= len(holding_all) else set(head) <= holding_all
    assert 2_000_007 not in {c.record_id for c in found}
