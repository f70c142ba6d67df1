"""The search backend protocol: what PostgreSQL and Elasticsearch each provide."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from greenplat.core.db import Connection
from greenplat.core.settings import Settings
from greenplat.indexer.documents import IndexDoc
from greenplat.indexer.search import Candidate, SearchFilters


class SearchBackend(Protocol):
    """Stores index documents and answers lexical and vector searches with filters inside.

    Methods take the caller's connection: the PostgreSQL backend writes in the caller's
    transaction (so an outbox batch and its index writes commit together); Elasticsearch
    ignores it and relies on idempotent writes keyed by record id.
    """

    name: str

    def ensure_models(self, conn: Connection, dims: dict[str, int]) -> None:
        """Create storage for each model's vectors (idempotent; rebuilt if a dimension changed)."""

    def write(
        self, conn: Connection, library: str, docs: list[IndexDoc], deleted: list[int]
    ) -> None:
        """Upsert docs (with their vectors) and remove deleted record ids."""

    def search_lexical(
        self,
        conn: Connection,
        library: str,
        query_terms: list[str],
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        """Best k records by term match, best first."""

    def term_counts(
        self,
        conn: Connection,
        library: str,
        query_terms: list[str],
        filters: SearchFilters,
        cap: int,
    ) -> dict[str, int]:
        """How many records matching the filters hold each term, counted up to cap."""

    def search_vector(
        self,
        conn: Connection,
        library: str,
        model: str,
        vector: np.ndarray,
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        """Nearest k records by cosine similarity of the model's vectors, best first."""

    def get_vectors(
        self, conn: Connection, library: str, ids: list[int], model: str
    ) -> dict[int, np.ndarray]:
        """Stored vectors of these records (records without one are left out)."""

    def similarities(
        self, conn: Connection, library: str, ids: list[int], model: str, vector: np.ndarray
    ) -> dict[int, float]:
        """Cosine of each record's stored vector with `vector` (records without one are left
        out): what scoring against one query needs, without moving the vectors."""

    def fingerprints(self, conn: Connection, library: str) -> dict[int, str]:
        """record id -> content hash of every indexed record of a library."""

    def count(self, conn: Connection, library: str) -> int:
        """How many records of a library are indexed."""

    def vector_ids(self, conn: Connection, library: str, model: str) -> set[int]:
        """Record ids holding a vector of this model."""

    def begin_rebuild(self, conn: Connection, library: str) -> str | None:
        """Start a full rebuild; returns a target that write_rebuild writes to."""

    def write_rebuild(
        self, conn: Connection, library: str, target: str | None, docs: list[IndexDoc]
    ) -> None:
        """Write a batch of a rebuild."""

    def finish_rebuild(self, conn: Connection, library: str, target: str | None) -> None:
        """Make the rebuilt index live and drop what no record backs any more."""

    def abort_rebuild(self, library: str, target: str | None) -> None:
        """Discard a failed rebuild; the live index stays as it was."""

    def ping(self) -> None:
        """Raise unless the backend answers."""

    def close(self) -> None:
        """Release connections."""


def make_backend(settings: Settings) -> SearchBackend:
    """The backend the settings choose."""
    if settings.effective_search_backend == "elasticsearch":
        from greenplat.indexer.esbackend import ElasticsearchBackend

        if not settings.es_url:
            raise ValueError("search_backend=elasticsearch needs GREENPLAT_ES_URL")
        return ElasticsearchBackend(settings.es_url, prefix=settings.es_index_prefix)
    from greenplat.indexer.pgbackend import PostgresBackend

    return PostgresBackend()
