"""The any-term fallback of the PostgreSQL lexical search ranks a bounded share of a library."""

from __future__ import annotations

import time

from greenplat.indexer import pgbackend
from greenplat.indexer.pgbackend import PostgresBackend


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
