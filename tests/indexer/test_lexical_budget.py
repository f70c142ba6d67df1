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
