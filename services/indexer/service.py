"""The indexer's public interface: keep the search indexes in step with the libraries, search."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from greenplat.core.db import Connection, Database
from greenplat.core.errors import InvalidInput
from greenplat.core.outbox import LIBRARIES
from greenplat.core.settings import Settings
from greenplat.indexer import maintenance, sync
from greenplat.indexer.analysis import terms
from greenplat.indexer.backend import SearchBackend, make_backend
from greenplat.indexer.documents import IndexDoc, load_documents
from greenplat.indexer.embedding import ModelSet, encode_passages
from greenplat.indexer.evidence import EvidenceCache
from greenplat.indexer.queries import QueryEncoder
from greenplat.indexer.search import MODES, Candidate, Mode, SearchFilters, SearchHit, fuse
from greenplat.indexer.translation import candidate_terms, english_terms, translated_terms

if TYPE_CHECKING:
    from greenplat.indexer.dispatcher import Dispatcher

log = logging.getLogger(__name__)

MAX_K = 1000
# all-MiniLM-L6-v2 cosines measured here: related English query/document pairs 0.52-0.64,
# unrelated ones -0.13-0.22.
SECONDARY_MIN_COSINE = 0.3
# Records counted per translation to choose among them: being held at all is what matters
# (a cap of 20 or of the whole library chose alike, docs/evaluation.md).
TERM_COUNT_CAP = 50
# The primary model's search by an English query's translated words: a small vote, chosen
# by cross-validation on the bilingual check (docs/evaluation.md, "Cross-language matching").
TRANSLATED_VECTOR_WEIGHT = 0.5
# A Chinese query's English words, searched among the records titled in English, vote like
# the query's own words (weight 1 chosen on either half of the bilingual check, held out:
# demo Chinese -> English MRR@10 0.374 -> 0.73 / 0.90; docs/evaluation.md).
ENGLISH_WORDS_WEIGHT = 1.0
# Libraries whose records have a title that says their language (an expert's is a name).
TITLED_LIBRARIES = ("problems", "achievements")
_CJK_CLASS = "[\u4e00-\u9fff]"


class Indexer:
    """Embeddings and search indexes of the three libraries, synchronised through the outbox."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        backend: SearchBackend | None = None,
        cross_language: bool = True,
    ) -> None:
        self.settings = settings
        self.db = db
        # False keeps the fusion of one language's legs only (bench.crosslang's baseline).
        self.cross_language = cross_language
        self.model_set = ModelSet(settings)
        self.backend = backend or make_backend(settings)
        # Matches keep works and their vectors in memory where the database says when they
        # change: migration 0440's triggers watch the PostgreSQL backend's vector tables.
        self.evidence = (
            EvidenceCache(settings.evidence_cache_vectors)
            if self.backend.name == "postgres" and settings.evidence_cache_vectors
            else None
        )
        self._storage_ready = False
        self._storage_lock = threading.Lock()
        self._dispatcher: Dispatcher | None = None
        self.queries = QueryEncoder(
            self.model_set,
            threads=settings.effective_embed_threads,
            window_ms=settings.query_batch_ms,
            cache_size=settings.query_cache_size,
        )

    # models ------------------------------------------------------------------------------

    @property
    def models(self) -> list[str]:
        """Active model keys, primary first (e.g. ["e5-small", "minilm"])."""
        return self.model_set.keys

    @property
    def language_models(self) -> dict[str, list[str]]:
        """Language code -> model keys serving it, as configured."""
        return self.model_set.language_map()

    def query_models(self, text: str) -> list[str]:
        """Models whose vectors a query in this text's language(s) is compared with."""
        return self.model_set.models_for(text)

    def query_vector(self, text: str, *, model: str) -> np.ndarray:
        """The L2-normalised query embedding of a text (batched with concurrent ones, cached)."""
        return self.queries.vector(text, model=model)

    def prefetch_query(self, text: str) -> None:
        """Start embedding a query under each model that reads it, without waiting: the
        caller's word searches run meanwhile, and query_vector then waits only for the rest."""
        for model in self.query_models(text):
            self.queries.prefetch(text, model=model)

    def prime_queries(self, texts: Sequence[str], *, wait: bool = True) -> None:
        """Embed these query texts ahead, in batches per model (the query cache keeps them);
        with wait=False, only start them (query_vector waits for each when it is asked)."""
        by_model: dict[str, list[str]] = {}
        for text in texts:
            for model in self.query_models(text):
                by_model.setdefault(model, []).append(text)
        for model, chosen in by_model.items():
            self.queries.prime(chosen, model=model, wait=wait)

    def encode_passages(self, texts: Sequence[str], *, conn: Connection, model: str) -> np.ndarray:
        """L2-normalised passage vectors, one row per text, through the embedding cache."""
        return encode_passages(self.model_set, conn, texts, model=model)

    # indexing ----------------------------------------------------------------------------

    def ensure_storage(self, conn: Connection) -> None:
        """Create the vector storage of every active model (loads the models once)."""
        with self._storage_lock:
            if self._storage_ready:
                return
            dims = {key: self.model_set.dim(key) for key in self.models}
            self.backend.ensure_models(conn, dims)
            self._storage_ready = True

    def embed_documents(
        self, conn: Connection, docs: list[IndexDoc], *, refresh: bool = False
    ) -> None:
        """Choose each document's models and attach its vectors (batched per model)."""
        for doc in docs:
            doc.models = self.model_set.models_for(doc.passage)
        for model in self.models:
            chosen = [doc for doc in docs if model in doc.models]
            if not chosen:
                continue
            vectors = encode_passages(
                self.model_set, conn, [doc.passage for doc in chosen], model=model, refresh=refresh
            )
            for doc, vector in zip(chosen, vectors, strict=True):
                doc.vectors[model] = vector

    def index_records(self, conn: Connection, ids_by_library: dict[str, list[int]]) -> None:
        """Bring the index entries of these records in line with the database, in conn."""
        self.ensure_storage(conn)
        docs = {lib: load_documents(conn, lib, ids) for lib, ids in ids_by_library.items()}
        # One encode call per model for the whole batch: longer, length-sorted calls run faster.
        self.embed_documents(conn, [doc for group in docs.values() for doc in group])
        for library, ids in ids_by_library.items():
            present = {doc.record_id for doc in docs[library]}
            self.backend.write(conn, library, docs[library], [i for i in ids if i not in present])

    def sync_pending(self, *, limit: int | None = None) -> int:
        """Drain the outbox in this process, in batches; returns the outbox rows processed."""
        processed, failed = sync.drain(self, limit=limit)
        if failed:
            log.warning("%d outbox rows failed; `greenplat index status` lists them", failed)
        return processed

    # search ------------------------------------------------------------------------------

    def search(
        self,
        library: str,
        *,
        conn: Connection,
        text: str,
        filters: SearchFilters | None = None,
        k: int = 50,
        mode: str = "hybrid",
        held: dict[str, int] | None = None,
    ) -> list[SearchHit]:
        """Records of a library matching text by words, by meaning, or both (fused by rank).

        held: the held_counts of this text, library and filters when the caller has them
        (the matcher's judging needs them too), so they are counted once."""
        _check_library(library)
        if mode not in MODES:
            raise InvalidInput(f"未知的检索方式 / unknown search mode {mode!r}", field="mode")
        if not 1 <= k <= MAX_K:
            raise InvalidInput(f"k 必须在 1 到 {MAX_K} 之间 / k must be 1..{MAX_K}", field="k")
        text = (text or "").strip()
        if not text:
            return []
        filters = filters or SearchFilters()
        depth = k if mode != "hybrid" else min(MAX_K, 2 * k)
        if mode != "lexical":
            self.ensure_storage(conn)
            self.prefetch_query(text)
        lexical = None
        if mode != "vector":
            lexical = self.backend.search_lexical(conn, library, terms(text), filters, depth)
        translated: dict[str, list[Candidate]] = {}
        if mode == "hybrid" and self.cross_language:
            translated = self._translated_lists(conn, library, text, filters, depth, held)
        queries = {}
        if mode != "lexical":
            queries = {
                model: self.query_vector(text, model=model) for model in self.query_models(text)
            }
        vectors = {
            model: self.backend.search_vector(conn, library, model, vector, filters, depth)
            for model, vector in queries.items()
        }
        for model in vectors:
            if model != self.model_set.primary:
                # A secondary model ranks only the documents in its language: without a floor
                # its best (possibly unrelated) hit would earn a full rank-1 share of the fusion.
                vectors[model] = [c for c in vectors[model] if c.score >= SECONDARY_MIN_COSINE]
        return fuse(
            library,
            lexical,
            vectors,
            mode=cast(Mode, mode),
            k=k,
            translated=translated.get("translated"),
            translated_vector=translated.get("translated_vector"),
            weights=self.fusion_weights(text, mode),
        )

    def _translated_lists(
        self,
        conn: Connection,
        library: str,
        text: str,
        filters: SearchFilters,
        depth: int,
        held: dict[str, int] | None,
    ) -> dict[str, list[Candidate]]:
        """Lexical and primary-model searches by the Chinese words of an English query; for a
        Chinese query, a lexical search by its English words among records titled in English.

        Of each phrase's dictionary words, those the records searched hold are used, the
        most held first: a general dictionary's likeliest sense is often not the library's
        (simulation is 仿真 in an engineering library, not 假摔).
        """
        english = english_terms(text)
        if english and library in TITLED_LIBRARIES:
            found = self.backend.search_lexical(conn, library, english, filters, depth)
            return {"translated": self._titled_in_english(conn, library, found)}
        other = self.translated_query(conn, library, text, filters, held)
        if not other:
            return {}
        primary = self.model_set.primary
        vector = self.query_vector(" ".join(other), model=primary)
        return {
            "translated": self.backend.search_lexical(conn, library, other, filters, depth),
            "translated_vector": self.backend.search_vector(
                conn, library, primary, vector, filters, depth
            ),
        }

    def translated_query(
        self,
        conn: Connection,
        library: str,
        text: str,
        filters: SearchFilters | None = None,
        held: dict[str, int] | None = None,
    ) -> list[str]:
        """The Chinese words an English query is searched by in a library (those its records
        hold, the most held first per phrase); none for any other query."""
        if held is None:
            held = self.held_counts(conn, library, text, filters)
        return translated_terms(text, held) if held else []

    def held_counts(
        self, conn: Connection, library: str, text: str, filters: SearchFilters | None = None
    ) -> dict[str, int]:
        """For an English query searched across languages: how many records (within the
        filters) hold each Chinese word its phrases may be translated to, as the search
        counts them to choose its words; else nothing."""
        candidates = candidate_terms(text) if self.cross_language else []
        if not candidates:
            return {}
        return self.backend.term_counts(
            conn, library, candidates, filters or SearchFilters(), TERM_COUNT_CAP
        )

    @staticmethod
    def _titled_in_english(
        conn: Connection, library: str, found: list[Candidate]
    ) -> list[Candidate]:
        """The candidates whose title has no Chinese, in their order. The records' own table
        says so, whichever backend searched: a mostly Chinese library holds English words in
        its Chinese abstracts, and a Chinese query's English words would find those first."""
        if not found:
            return []
        rows = conn.execute(
            f"SELECT id FROM {library} WHERE id = ANY(%s) AND title !~ %s",
            ([c.record_id for c in found], _CJK_CLASS),
        ).fetchall()
        english = {row["id"] for row in rows}
        return [c for c in found if c.record_id in english]

    def fusion_weights(self, text: str, mode: str) -> dict[str, float]:
        """Each ranked list's share of a search's fusion, by the query's language.

        When the query's words are translated, the lists that can only find records of the
        query's own language (its words; a model of that language alone) share one vote, as
        the primary model and the translated words each reach both languages: otherwise an
        English query's English-only lists outvote the Chinese record it is about.
        """
        if mode == "lexical":
            return {"lexical": 1.0}
        weights = {model: 1.0 for model in self.query_models(text)}
        if mode == "vector":
            return weights
        weights["lexical"] = 1.0
        if self.cross_language and english_terms(text):
            weights["translated"] = ENGLISH_WORDS_WEIGHT
        if self.cross_language and candidate_terms(text):
            own = ["lexical", *(m for m in weights if m not in ("lexical", self.model_set.primary))]
            for leg in own:
                weights[leg] = 1.0 / len(own)
            weights["translated"] = 1.0
            weights["translated_vector"] = TRANSLATED_VECTOR_WEIGHT
        return weights

    def get_vectors(
        self,
        library: str,
        record_ids: Sequence[int],
        *,
        conn: Connection,
        model: str,
    ) -> dict[int, np.ndarray]:
        """Stored document vectors of these records (records without one are absent)."""
        _check_library(library)
        if not record_ids:
            return {}
        return self.backend.get_vectors(conn, library, [int(i) for i in record_ids], model)

    def similarities(
        self,
        library: str,
        record_ids: Sequence[int],
        vector: np.ndarray,
        *,
        conn: Connection,
        model: str,
    ) -> dict[int, float]:
        """Cosine of each record's stored vector (under model) with vector; records without
        one are absent. Stored vectors are unit length, so this is their dot product."""
        _check_library(library)
        if not record_ids:
            return {}
        ids = [int(i) for i in record_ids]
        return self.backend.similarities(conn, library, ids, model, vector)

    # operations --------------------------------------------------------------------------

    def status(self, conn: Connection) -> dict[str, Any]:
        """Backend, models, outbox lag and failures, records vs indexed documents per library."""
        return maintenance.status(self, conn)

    def verify(self, *, repair: bool = True) -> dict[str, Any]:
        """Compare database and index per library; with repair, queue and apply the fixes."""
        return maintenance.verify(self, repair=repair)

    def rebuild(self, *, progress: bool = True) -> dict[str, int]:
        """Re-embed and re-index every record of every library; returns records per library."""
        return maintenance.rebuild(self, progress=progress)

    def ping(self) -> None:
        """Raise unless the search backend answers (the database has its own check)."""
        self.backend.ping()

    def start_dispatcher(self) -> None:
        """Start draining the outbox when NOTIFY says it changed (and by periodic poll)."""
        from greenplat.indexer.dispatcher import Dispatcher

        if self._dispatcher is None:
            self._dispatcher = Dispatcher(self)
            self._dispatcher.start()

    def stop_dispatcher(self) -> None:
        """Stop the dispatcher thread (waits for a running drain to finish)."""
        if self._dispatcher is not None:
            self._dispatcher.stop()
            self._dispatcher = None

    def close(self) -> None:
        """Stop the dispatcher and the query embedder, and release the backend."""
        self.stop_dispatcher()
        self.queries.close()
        self.backend.close()


def _check_library(library: str) -> None:
    if library not in LIBRARIES:
        raise InvalidInput(
            f"未知的库 / unknown library {library!r} (one of {', '.join(LIBRARIES)})",
            field="library",
        )
