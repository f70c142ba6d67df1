"""PostgreSQL search backend: GIN full-text over jieba terms, pgvector HNSW (cosine)."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import numpy as np
from psycopg import sql
from psycopg.rows import tuple_row

from greenplat.core.db import Connection, one
from greenplat.core.outbox import LIBRARIES
from greenplat.core.permissions import problem_found_filter
from greenplat.indexer.analysis import tsquery_literal
from greenplat.indexer.documents import FILTER_FIELDS, IndexDoc
from greenplat.indexer.embedding import as_array
from greenplat.indexer.evidence import EVIDENCE_LIBRARIES
from greenplat.indexer.search import Candidate, SearchFilters

# Serialises DDL on the vector tables between processes that start together.
_DDL_LOCK = 74_117_101
FREQUENT_TERM_SHARE = 0.05
FREQUENT_TERMS_TTL = 300.0  # seconds
FREQUENT_TERMS_MIN_DOCUMENTS = 20_000
# Documents the any-term fallback may rank, by ANALYZE's shares: its rarest terms are kept
# until their documents would exceed this (ranking cost grows with every match: 150 ms a
# query for 150k matches at 300k documents, bench/match_latency.py). A term ANALYZE did not
# list counts as none, so a query of many such terms ranks more (docs/evaluation.md, 11th).
LEXICAL_FALLBACK_BUDGET = 2_000
_DOC_COLUMNS = ("library", "record_id", "external_id", "title", "lexemes", *FILTER_FIELDS)


def model_slug(model: str) -> str:
    """A table-name-safe, unique short name for a model key."""
    base = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:24] or "model"
    return f"{base}_{hashlib.sha1(model.encode()).hexdigest()[:6]}"


def vector_table(slug: str, library: str) -> sql.Identifier:
    return sql.Identifier(f"search_vectors_{slug}_{library}")


def filter_sql(library: str, filters: SearchFilters) -> tuple[str, list[Any]]:
    """WHERE conditions on search_documents (alias p) for a library and its filters.

    The library is written into the statement, not bound: each library has its own word
    index (a partial index, migration 0430), which a plan may use only when it knows which
    library it reads, and a prepared statement's generic plan would not."""
    if library not in LIBRARIES:
        raise ValueError(f"unknown library {library!r}")
    parts: list[str] = [f"p.library = '{library}'"]
    params: list[Any] = []
    for name, column in (("region", "region"), ("industry", "industry"), ("status", "status")):
        values = getattr(filters, name)
        if values is not None:
            parts.append(f"p.{column} = ANY(%s)")
            params.append(list(values))
    if filters.kind is not None:
        parts.append("p.kind = ANY(%s)")
        params.append(list(filters.kind))
    if filters.discipline is not None:
        parts.append("p.disciplines && %s::text[]")
        params.append(list(filters.discipline))
    if not filters.include_confidential:
        parts.append("NOT p.confidential")
    if filters.exclude_ids:
        parts.append("NOT (p.record_id = ANY(%s))")
        params.append(list(filters.exclude_ids))
    if filters.principal is not None and library == "problems":
        found, more = problem_found_filter(filters.principal, "p")
        parts.append(found)
        params += more
    return " AND ".join(parts), params


class PostgresBackend:
    """Search inside the platform's own database (the default; nothing else to run)."""

    name = "postgres"

    def __init__(self) -> None:
        self._slugs: dict[str, str] = {}
        self._frequent: dict[str, float] = {}
        self._documents = 0.0
        self._frequent_at = float("-inf")

    # storage -----------------------------------------------------------------------------

    def ensure_models(self, conn: Connection, dims: dict[str, int]) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        for model, dim in dims.items():
            row = conn.execute(
                "SELECT slug, dim FROM search_models WHERE model = %s", (model,)
            ).fetchone()
            slug = model_slug(model)
            if row is not None and row["dim"] != dim:
                # Vectors kept in memory (greenplat.indexer.evidence) go with the tables.
                conn.execute(
                    "INSERT INTO evidence_changes (version, library)"
                    " SELECT evidence_commit_version(), unnest(%s::text[])",
                    (list(EVIDENCE_LIBRARIES),),
                )
                for library in LIBRARIES:
                    conn.execute(
                        sql.SQL("DROP TABLE IF EXISTS {}").format(vector_table(slug, library))
                    )
            for library in LIBRARIES:
                self._create_table(conn, slug, library, dim)
            conn.execute(
                "INSERT INTO search_models (model, slug, dim) VALUES (%s, %s, %s)"
                " ON CONFLICT (model) DO UPDATE SET dim = EXCLUDED.dim",
                (model, slug, dim),
            )
            self._slugs[model] = slug

    def _create_table(self, conn: Connection, slug: str, library: str, dim: int) -> None:
        table = vector_table(slug, library)
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (record_id bigint PRIMARY KEY,"
                " embedding vector({}) NOT NULL)"
            ).format(table, sql.Literal(dim))
        )
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding vector_cosine_ops)"
            ).format(sql.Identifier(f"search_vectors_{slug}_{library}_hnsw"), table)
        )
        if library in EVIDENCE_LIBRARIES:
            # Matches may keep these vectors in memory: a write moves the evidence version.
            conn.execute(
                "SELECT evidence_watch(%s::regclass, %s)", (table.as_string(conn), library)
            )

    def _slug(self, conn: Connection, model: str) -> str | None:
        if model not in self._slugs:
            row = conn.execute(
                "SELECT slug FROM search_models WHERE model = %s", (model,)
            ).fetchone()
            if row is None:
                return None
            self._slugs[model] = row["slug"]
        return self._slugs[model]

    # writes ------------------------------------------------------------------------------

    def write(
        self, conn: Connection, library: str, docs: list[IndexDoc], deleted: list[int]
    ) -> None:
        if deleted:
            self._delete(conn, library, deleted)
        if not docs:
            return
        columns = ", ".join(_DOC_COLUMNS)
        placeholders = ", ".join(["%s"] * len(_DOC_COLUMNS))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _DOC_COLUMNS[2:])
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO search_documents ({columns}, models, content_hash, indexed_at)"
                f" VALUES ({placeholders}, %s, %s, now())"
                f" ON CONFLICT (library, record_id) DO UPDATE SET {updates},"
                " models = EXCLUDED.models, content_hash = EXCLUDED.content_hash,"
                " indexed_at = now()",
                [
                    (
                        doc.library,
                        doc.record_id,
                        doc.external_id,
                        doc.title,
                        doc.lexemes,
                        *(doc.fields[name] for name in FILTER_FIELDS),
                        doc.models,
                        doc.content_hash,
                    )
                    for doc in docs
                ],
            )
        self._write_vectors(conn, library, docs)

    def _write_vectors(self, conn: Connection, library: str, docs: list[IndexDoc]) -> None:
        models = {model for doc in docs for model in doc.models} | set(self._slugs)
        for model in models:
            slug = self._slug(conn, model)
            if slug is None:
                continue
            table = vector_table(slug, library)
            having = [(d.record_id, d.vectors[model]) for d in docs if model in d.vectors]
            lacking = [d.record_id for d in docs if model not in d.vectors]
            with conn.cursor() as cur:
                if having:
                    cur.executemany(
                        sql.SQL(
                            "INSERT INTO {} (record_id, embedding) VALUES (%s, %s)"
                            " ON CONFLICT (record_id) DO UPDATE SET embedding = EXCLUDED.embedding"
                        ).format(table),
                        having,
                    )
                if lacking:
                    cur.execute(
                        sql.SQL("DELETE FROM {} WHERE record_id = ANY(%s)").format(table),
                        (lacking,),
                    )

    def _delete(self, conn: Connection, library: str, ids: list[int]) -> None:
        conn.execute(
            "DELETE FROM search_documents WHERE library = %s AND record_id = ANY(%s)",
            (library, ids),
        )
        for slug in self._all_slugs(conn):
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE record_id = ANY(%s)").format(
                    vector_table(slug, library)
                ),
                (ids,),
            )

    def _all_slugs(self, conn: Connection) -> list[str]:
        return [row["slug"] for row in conn.execute("SELECT slug FROM search_models")]

    # searches ----------------------------------------------------------------------------

    def search_lexical(
        self,
        conn: Connection,
        library: str,
        query_terms: list[str],
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        # Records holding every term come first; only if they are fewer than k are records
        # holding any term ranked after them. Ranking every record that shares one frequent
        # term is what makes OR queries slow on large libraries (measured: bench/latency.py).
        every = tsquery_literal(query_terms, "&")
        # The fallback ranks the records holding any of the rarer terms (PostgreSQL's own
        # statistics say how many hold each): frequent ones alone would drag most of the
        # library into the ranking.
        some = self._rare_terms(conn, list(dict.fromkeys(query_terms)))
        if len(set(query_terms)) < 2 or not some:
            return self._lexical(conn, library, every, filters, k)
        # A record holding every term holds the rarer ones too, so one statement finds both
        # among the rarer terms' records: those holding every term first, each part by its
        # own query's rank. It ranks no more records than the fallback alone, and spares the
        # every-term index scan, which costs most when the terms are common (10 ms of a
        # search at 100k experts, docs/evaluation.md twelfth round).
        where, params = filter_sql(library, filters)
        rows = conn.execute(
            "SELECT record_id, external_id, score FROM (SELECT p.record_id, p.external_id,"
            " p.lexemes @@ e AS whole, ts_rank(p.lexemes, CASE WHEN p.lexemes @@ e THEN e"
            " ELSE q END, 1) AS score FROM search_documents p, CAST(%s AS tsquery) q,"
            f" CAST(%s AS tsquery) e WHERE p.lexemes @@ q AND {where}) s"
            " ORDER BY whole DESC, score DESC, record_id LIMIT %s",
            [tsquery_literal(some, "|"), every, *params, k],
        ).fetchall()
        return [Candidate(r["record_id"], r["external_id"], float(r["score"])) for r in rows]

    def term_counts(
        self,
        conn: Connection,
        library: str,
        query_terms: list[str],
        filters: SearchFilters,
        cap: int,
    ) -> dict[str, int]:
        if not query_terms:
            return {}
        where, params = filter_sql(library, filters)
        # One GIN probe per term; the cap bounds the rows a common term makes it read.
        rows = conn.execute(
            "SELECT t.term, (SELECT count(*) FROM (SELECT 1 FROM search_documents p"
            f" WHERE p.lexemes @@ CAST(t.query AS tsquery) AND {where} LIMIT %s) s) AS n"
            " FROM unnest(%s::text[], %s::text[]) AS t(term, query)",
            [*params, cap, query_terms, [tsquery_literal([term]) for term in query_terms]],
        ).fetchall()
        return {r["term"]: int(r["n"]) for r in rows}

    def _rare_terms(self, conn: Connection, query_terms: list[str]) -> list[str]:
        """The query's terms the fallback ranks: none found in more than FREQUENT_TERM_SHARE
        of documents, rarest first while their documents stay within the budget."""
        shares, documents = self._term_shares(conn)
        rare = sorted(
            (t for t in query_terms if shares.get(t, 0.0) <= FREQUENT_TERM_SHARE),
            key=lambda t: shares.get(t, 0.0),
        )
        kept: list[str] = []
        matched = 0.0
        for term in rare:
            matched += shares.get(term, 0.0) * documents
            if kept and matched > LEXICAL_FALLBACK_BUDGET:
                break
            kept.append(term)
        return kept

    def _term_shares(self, conn: Connection) -> tuple[dict[str, float], float]:
        """The share of documents holding each common term, as ANALYZE found it, and the
        number of documents (cached a while; empty for small libraries, which rank every
        match quickly: their queries stay whole)."""
        now = time.monotonic()
        if now - self._frequent_at > FREQUENT_TERMS_TTL:
            row = conn.execute(
                "SELECT most_common_elems::text::text[] AS terms,"
                " most_common_elem_freqs AS freqs, c.reltuples AS documents"
                " FROM pg_stats, pg_class c"
                " WHERE tablename = 'search_documents' AND attname = 'lexemes'"
                " AND c.oid = 'search_documents'::regclass AND c.reltuples >= %s",
                (FREQUENT_TERMS_MIN_DOCUMENTS,),
            ).fetchone()
            terms, freqs = (row["terms"], row["freqs"]) if row and row["terms"] else ([], [])
            self._frequent = dict(zip(terms, freqs, strict=False))
            self._documents = float(row["documents"]) if row else 0.0
            self._frequent_at = now
        return self._frequent, self._documents

    def _lexical(
        self,
        conn: Connection,
        library: str,
        query: str | None,
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        if query is None:
            return []
        where, params = filter_sql(library, filters)
        rows = conn.execute(
            "SELECT p.record_id, p.external_id, ts_rank(p.lexemes, q, 1) AS score"
            f" FROM search_documents p, CAST(%s AS tsquery) q WHERE p.lexemes @@ q AND {where}"
            " ORDER BY score DESC, p.record_id LIMIT %s",
            [query, *params, k],
        ).fetchall()
        return [Candidate(r["record_id"], r["external_id"], float(r["score"])) for r in rows]

    def search_vector(
        self,
        conn: Connection,
        library: str,
        model: str,
        vector: np.ndarray,
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        slug = self._slug(conn, model)
        if slug is None:
            return []
        where, params = filter_sql(library, filters)
        # Iterative scans keep walking the HNSW graph until k rows pass the filters, so a
        # selective filter still returns k results instead of the few that survived ef_search.
        conn.execute(
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
            " set_config('hnsw.ef_search', %s, true)",
            (str(min(1000, max(40, 2 * k))),),
        )
        query = sql.SQL(
            "SELECT v.record_id, p.external_id, 1 - (v.embedding <=> %s) AS score"
            " FROM {} v JOIN search_documents p"
            " ON p.library = %s AND p.record_id = v.record_id"
            " WHERE " + where + " ORDER BY v.embedding <=> %s LIMIT %s"
        ).format(vector_table(slug, library))
        vec = np.asarray(vector, dtype=np.float32)
        rows = conn.execute(query, [vec, library, *params, vec, k]).fetchall()
        found = [Candidate(r["record_id"], r["external_id"], float(r["score"])) for r in rows]
        # relaxed_order may return near-ties slightly out of order
        return sorted(found, key=lambda c: (-c.score, c.record_id))

    # reads -------------------------------------------------------------------------------

    def get_vectors(
        self, conn: Connection, library: str, ids: list[int], model: str
    ) -> dict[int, np.ndarray]:
        slug = self._slug(conn, model)
        if slug is None or not ids:
            return {}
        # Binary rows: parsing a vector's text form costs more than the query itself (a
        # thousand vectors per match; measured in docs/matching.md#speed).
        rows = conn.execute(
            sql.SQL("SELECT record_id, embedding FROM {} WHERE record_id = ANY(%s)").format(
                vector_table(slug, library)
            ),
            (list(ids),),
            binary=True,
        ).fetchall()
        return {r["record_id"]: as_array(r["embedding"]) for r in rows}

    def similarities(
        self, conn: Connection, library: str, ids: list[int], model: str, vector: np.ndarray
    ) -> dict[int, float]:
        slug = self._slug(conn, model)
        if slug is None or not ids:
            return {}
        # The server computes the cosines next to the vectors: a match scores about a thousand
        # works, and moving their vectors cost more than the rest of the query.
        # Plain tuples: a match reads about a thousand of these rows.
        with conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(
                sql.SQL(
                    "SELECT record_id, 1 - (embedding <=> %s) FROM {} WHERE record_id = ANY(%s)"
                ).format(vector_table(slug, library)),
                (np.asarray(vector, dtype=np.float32), list(ids)),
            ).fetchall()
        return {record_id: float(sim) for record_id, sim in rows}

    def fingerprints(self, conn: Connection, library: str) -> dict[int, str]:
        rows = conn.execute(
            "SELECT record_id, content_hash FROM search_documents WHERE library = %s", (library,)
        )
        return {r["record_id"]: r["content_hash"] for r in rows}

    def count(self, conn: Connection, library: str) -> int:
        row = one(conn, "SELECT count(*) AS n FROM search_documents WHERE library = %s", (library,))
        return int(row["n"])

    def vector_ids(self, conn: Connection, library: str, model: str) -> set[int]:
        slug = self._slug(conn, model)
        if slug is None:
            return set()
        rows = conn.execute(sql.SQL("SELECT record_id FROM {}").format(vector_table(slug, library)))
        return {r["record_id"] for r in rows}

    # rebuilds ----------------------------------------------------------------------------

    def begin_rebuild(self, conn: Connection, library: str) -> str | None:
        # Rows are replaced in place, batch by batch: searches keep answering throughout.
        return None

    def write_rebuild(
        self, conn: Connection, library: str, target: str | None, docs: list[IndexDoc]
    ) -> None:
        self.write(conn, library, docs, [])

    def finish_rebuild(self, conn: Connection, library: str, target: str | None) -> None:
        orphans = [
            r["record_id"]
            for r in conn.execute(
                sql.SQL(
                    "SELECT p.record_id FROM search_documents p WHERE p.library = %s"
                    " AND NOT EXISTS (SELECT 1 FROM {} r WHERE r.id = p.record_id)"
                ).format(sql.Identifier(library)),
                (library,),
            )
        ]
        if orphans:
            self._delete(conn, library, orphans)

    def abort_rebuild(self, library: str, target: str | None) -> None:
        return None

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None
