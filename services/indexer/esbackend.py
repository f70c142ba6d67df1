"""Elasticsearch search backend: one index per library behind an alias, rebuilt by alias swap.

Index names are versioned (`<prefix>-<library>-<random>`); the alias `<prefix>-<library>`
points at the live one. A rebuild fills a fresh index from a generator, then swaps the alias
in one atomic call and drops the old index; if anything fails the fresh index is deleted and
the live one never noticed (the pattern of PyPI Warehouse's search/tasks.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, helpers

from greenplat.core.db import Connection
from greenplat.core.outbox import LIBRARIES
from greenplat.core.permissions import Clause
from greenplat.indexer.documents import FILTER_FIELDS, IndexDoc
from greenplat.indexer.pgbackend import model_slug
from greenplat.indexer.search import Candidate, SearchFilters, problem_visibility

log = logging.getLogger(__name__)

# Terms from greenplat.indexer.analysis, by weight: title > keywords > names > body.
TERM_FIELDS = {"A": "terms_a", "B": "terms_b", "C": "terms_c", "D": "terms_d"}
TERM_BOOSTS = {"terms_a": 4.0, "terms_b": 2.0, "terms_c": 1.5, "terms_d": 1.0, "text": 0.5}
_KEYWORDS = ("external_id", "region", "industry", "disciplines", "status", "kind")
_CHINESE_PLUGINS = {"analysis-ik": "ik_max_word", "analysis-smartcn": "smartcn"}


def vector_field(model: str) -> str:
    return f"vec_{model_slug(model)}"


class ElasticsearchBackend:
    """Search on an Elasticsearch 9 cluster (official client; bulk helpers)."""

    name = "elasticsearch"

    def __init__(self, url: str, *, prefix: str = "greenplat", client: Elasticsearch | None = None):
        self.client = client or Elasticsearch(url, request_timeout=30, retry_on_timeout=True)
        self.prefix = prefix
        self.dims: dict[str, int] = {}
        self._analyzer: str | None = None

    # names and mappings ------------------------------------------------------------------

    def alias(self, library: str) -> str:
        return f"{self.prefix}-{library}"

    def _new_index_name(self, library: str) -> str:
        return f"{self.alias(library)}-{uuid.uuid4().hex[:12]}"

    def text_analyzer(self) -> str:
        """A Chinese analyzer the cluster has installed (ik, smartcn), else built-in CJK bigrams."""
        if self._analyzer is None:
            rows: Any = self.client.cat.plugins(format="json").body  # JSON list, typed as str
            installed = {row["component"] for row in rows}
            self._analyzer = next(
                (name for plugin, name in _CHINESE_PLUGINS.items() if plugin in installed), "cjk"
            )
        return self._analyzer

    def _mappings(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "record_id": {"type": "long"},
            "title": {"type": "text", "analyzer": self.text_analyzer()},
            "text": {"type": "text", "analyzer": self.text_analyzer()},
            "confidential": {"type": "boolean"},
            "owner_id": {"type": "long"},
            "organization_id": {"type": "long"},
            "expert_ids": {"type": "keyword"},
            "models": {"type": "keyword"},
            "content_hash": {"type": "keyword", "index": False},
        }
        properties |= {
            name: {"type": "text", "analyzer": "whitespace"} for name in TERM_FIELDS.values()
        }
        properties |= {name: {"type": "keyword"} for name in _KEYWORDS}
        properties |= {vector_field(m): self._vector_mapping(d) for m, d in self.dims.items()}
        return {"dynamic": "strict", "properties": properties}

    @staticmethod
    def _vector_mapping(dim: int) -> dict[str, Any]:
        return {
            "type": "dense_vector",
            "dims": dim,
            "index": True,
            "similarity": "cosine",
            "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100},
        }

    def _create_index(self, library: str) -> str:
        name = self._new_index_name(library)
        settings: dict[str, Any] = {"number_of_shards": 1, "refresh_interval": "1s"}
        try:
            # Newer 9.x clusters leave vectors out of _source by default; get_vectors reads them
            # from there, so keep them in.
            self.client.indices.create(
                index=name,
                mappings=self._mappings(),
                settings=settings | {"index.mapping.exclude_source_vectors": False},
            )
        except BadRequestError as error:
            if "exclude_source_vectors" not in str(error):
                raise
            self.client.indices.create(index=name, mappings=self._mappings(), settings=settings)
        return name

    def _live_index(self, library: str) -> str | None:
        try:
            found = self.client.indices.get_alias(name=self.alias(library))
        except NotFoundError:
            return None
        return next(iter(found.body))

    # storage -----------------------------------------------------------------------------

    def ensure_models(self, conn: Connection, dims: dict[str, int]) -> None:
        self.dims.update(dims)
        for library in LIBRARIES:
            live = self._live_index(library)
            if live is None:
                name = self._create_index(library)
                self.client.indices.put_alias(index=name, name=self.alias(library))
                continue
            mapping = self.client.indices.get_mapping(index=live)[live]["mappings"]
            known = mapping.get("properties", {})
            for model, dim in dims.items():
                field = vector_field(model)
                if field not in known:
                    self.client.indices.put_mapping(
                        index=live, properties={field: self._vector_mapping(dim)}
                    )
                elif known[field].get("dims") != dim:
                    raise RuntimeError(
                        f"{live}: {field} holds {known[field].get('dims')}-d vectors, model "
                        f"{model} makes {dim}-d ones: run `greenplat index rebuild`"
                    )

    # writes ------------------------------------------------------------------------------

    def _source(self, doc: IndexDoc) -> dict[str, Any]:
        source: dict[str, Any] = {
            "record_id": doc.record_id,
            "external_id": doc.external_id,
            "title": doc.title,
            "text": doc.passage,
            "models": doc.models,
            "content_hash": doc.content_hash,
        }
        for weight, field in TERM_FIELDS.items():
            source[field] = " ".join(
                t for w, group in doc.weighted_terms if w == weight for t in group
            )
        source |= {name: doc.fields[name] for name in FILTER_FIELDS}
        for model, vector in doc.vectors.items():
            source[vector_field(model)] = np.asarray(vector, dtype=np.float32).tolist()
        return source

    def _bulk(self, index: str, actions: Iterator[dict[str, Any]]) -> None:
        _ok, errors = helpers.bulk(
            self.client, actions, refresh="wait_for", raise_on_error=False, stats_only=False
        )
        assert isinstance(errors, list)  # stats_only=False: the failed items themselves
        real = [e for e in errors if next(iter(e.values())).get("status") != 404]
        if real:
            raise RuntimeError(f"bulk indexing into {index} failed: {real[:3]}")

    def write(
        self, conn: Connection, library: str, docs: list[IndexDoc], deleted: list[int]
    ) -> None:
        self._write(self.alias(library), docs, deleted)

    def _write(self, index: str, docs: list[IndexDoc], deleted: list[int]) -> None:
        def actions() -> Iterator[dict[str, Any]]:
            for record_id in deleted:
                yield {"_op_type": "delete", "_index": index, "_id": str(record_id)}
            for doc in docs:
                # index (not update) replaces the whole document: a vector of a model that no
                # longer applies disappears with it.
                yield {
                    "_op_type": "index",
                    "_index": index,
                    "_id": str(doc.record_id),
                    "_source": self._source(doc),
                }

        if docs or deleted:
            self._bulk(index, actions())

    # searches ----------------------------------------------------------------------------

    def search_lexical(
        self,
        conn: Connection,
        library: str,
        query_terms: list[str],
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        if not query_terms:
            return []
        text = " ".join(dict.fromkeys(query_terms))
        should = [
            {"match": {field: {"query": text, "boost": boost}}}
            for field, boost in TERM_BOOSTS.items()
        ]
        query = {
            "bool": {
                "should": should,
                "minimum_should_match": 1,
                "filter": es_filters(library, filters),
                "must_not": _must_not(filters),
            }
        }
        try:
            found = self.client.search(
                index=self.alias(library),
                query=query,
                size=k,
                source=["external_id"],  # type: ignore[arg-type]  # the stub omits field lists
                sort=["_score", {"record_id": "asc"}],
                track_scores=True,
            )
        except NotFoundError:  # nothing was ever indexed on this cluster
            return []
        return _candidates(found)

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
        fields = list(TERM_FIELDS.values())
        held = {
            str(i): {"bool": {"should": [{"term": {field: term}} for field in fields]}}
            for i, term in enumerate(query_terms)
        }
        query = {"bool": {"filter": es_filters(library, filters), "must_not": _must_not(filters)}}
        try:
            found = self.client.search(
                index=self.alias(library),
                query=query,
                size=0,
                aggs={"held": {"filters": {"filters": held}}},
            )
        except NotFoundError:  # nothing was ever indexed on this cluster
            return dict.fromkeys(query_terms, 0)
        buckets = found["aggregations"]["held"]["buckets"]
        return {
            term: min(cap, int(buckets[str(i)]["doc_count"])) for i, term in enumerate(query_terms)
        }

    def search_vector(
        self,
        conn: Connection,
        library: str,
        model: str,
        vector: np.ndarray,
        filters: SearchFilters,
        k: int,
    ) -> list[Candidate]:
        if model not in self.dims:
            return []
        knn = {
            "field": vector_field(model),
            "query_vector": np.asarray(vector, dtype=np.float32).tolist(),
            "k": k,
            "num_candidates": min(10_000, max(100, 4 * k)),
            "filter": {
                "bool": {"filter": es_filters(library, filters), "must_not": _must_not(filters)}
            },
        }
        found = self.client.search(
            index=self.alias(library),
            knn=knn,
            size=k,
            source=["external_id"],  # type: ignore[arg-type]  # the stub omits field lists
        )
        # Elasticsearch reports cosine as (1 + cos) / 2; give back the cosine itself.
        return [
            Candidate(c.record_id, c.external_id, 2.0 * c.score - 1.0) for c in _candidates(found)
        ]

    # reads -------------------------------------------------------------------------------

    def get_vectors(
        self, conn: Connection, library: str, ids: list[int], model: str
    ) -> dict[int, np.ndarray]:
        if not ids:
            return {}
        field = vector_field(model)
        found = self.client.mget(
            index=self.alias(library), ids=[str(i) for i in ids], source=[field]
        )
        return {
            int(doc["_id"]): np.asarray(doc["_source"][field], dtype=np.float32)
            for doc in found["docs"]
            if doc.get("found") and field in doc.get("_source", {})
        }

    def similarities(
        self, conn: Connection, library: str, ids: list[int], model: str, vector: np.ndarray
    ) -> dict[int, float]:
        query = np.asarray(vector, dtype=np.float32)
        stored = self.get_vectors(conn, library, ids, model)
        return {record_id: float(v @ query) for record_id, v in stored.items()}

    def _scan(self, library: str, query: dict, fields: list[str]) -> Iterable[dict[str, Any]]:
        return helpers.scan(
            self.client,
            index=self.alias(library),
            query={"query": query, "_source": fields or False},
        )

    def fingerprints(self, conn: Connection, library: str) -> dict[int, str]:
        hits = self._scan(library, {"match_all": {}}, ["content_hash"])
        return {int(hit["_id"]): hit["_source"]["content_hash"] for hit in hits}

    def count(self, conn: Connection, library: str) -> int:
        try:
            return int(self.client.count(index=self.alias(library))["count"])
        except NotFoundError:
            return 0

    def vector_ids(self, conn: Connection, library: str, model: str) -> set[int]:
        hits = self._scan(library, {"exists": {"field": vector_field(model)}}, [])
        return {int(hit["_id"]) for hit in hits}

    # rebuilds ----------------------------------------------------------------------------

    def begin_rebuild(self, conn: Connection, library: str) -> str | None:
        return self._create_index(library)

    def write_rebuild(
        self, conn: Connection, library: str, target: str | None, docs: list[IndexDoc]
    ) -> None:
        assert target is not None
        self._write(target, docs, [])

    def finish_rebuild(self, conn: Connection, library: str, target: str | None) -> None:
        assert target is not None
        self.client.indices.refresh(index=target)
        old = self._live_index(library)
        actions: list[dict] = [{"add": {"index": target, "alias": self.alias(library)}}]
        if old is not None:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias(library)}})
        self.client.indices.update_aliases(actions=actions)
        if old is not None:
            self.client.indices.delete(index=old)

    def abort_rebuild(self, library: str, target: str | None) -> None:
        if target is not None:
            self.client.indices.delete(index=target, ignore_unavailable=True)

    def ping(self) -> None:
        self.client.info()

    def close(self) -> None:
        self.client.close()

    def drop(self) -> None:
        """Delete every index of this prefix (tests)."""
        # Wildcard deletes are refused by default (action.destructive_requires_name): name them.
        names = list(self.client.indices.get(index=f"{self.prefix}-*").body)
        if names:
            self.client.indices.delete(index=",".join(names))


def _clause(clause: Clause) -> dict[str, Any]:
    # A keyword field holding a list matches terms on any element: "contains" needs nothing more.
    if clause.also:
        alone = Clause(clause.field, clause.values, clause.op)
        return {"bool": {"filter": [_clause(c) for c in (alone, *clause.also)]}}
    if clause.field is None:
        return {"match_all": {}}
    return {"terms": {clause.field: list(clause.values)}}


def _any(clauses: tuple[Clause, ...]) -> dict[str, Any]:
    return {
        "bool": {
            "should": [_clause(c) for c in clauses] or [{"match_none": {}}],
            "minimum_should_match": 1,
        }
    }


def es_filters(library: str, filters: SearchFilters) -> list[dict[str, Any]]:
    """The filters as Elasticsearch filter clauses (the same rules as pgbackend.filter_sql)."""
    out: list[dict[str, Any]] = []
    for name, field in (
        ("region", "region"),
        ("industry", "industry"),
        ("status", "status"),
        ("kind", "kind"),
        ("discipline", "disciplines"),
    ):
        values = getattr(filters, name)
        if values is not None:
            out.append({"terms": {field: list(values)}})
    if not filters.include_confidential:
        out.append({"term": {"confidential": False}})
    if filters.principal is not None and library == "problems":
        vis = problem_visibility(filters.principal)
        out.append(_any(vis.readable))
        out.append(
            {
                "bool": {
                    "should": [{"term": {"confidential": False}}, _any(vis.full)],
                    "minimum_should_match": 1,
                }
            }
        )
    return out


def _must_not(filters: SearchFilters) -> list[dict[str, Any]]:
    if not filters.exclude_ids:
        return []
    return [{"ids": {"values": [str(i) for i in filters.exclude_ids]}}]


def _candidates(found: Any) -> list[Candidate]:
    return [
        Candidate(int(hit["_id"]), hit["_source"]["external_id"], float(hit["_score"]))
        for hit in found["hits"]["hits"]
    ]
