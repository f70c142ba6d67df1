"""Embedding models: which ones are active, for which languages, and a cached encoder.

settings.models reads "zh:e5-small,en:minilm". The first model listed is the primary one: it
embeds every document (multilingual-e5-small reads Chinese and English, and only it can match
across the two). A further model embeds the documents that contain its language: the matcher
measured all-MiniLM-L6-v2 clearly better than e5-small on English expertise, so English text
gets a second vector rather than a different one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pgvector import Vector

from greenplat.core.db import Connection
from greenplat.core.errors import DomainError
from greenplat.core.settings import Settings
from greenplat.indexer import modelprep, mpnetprep, onnxrun
from greenplat.indexer.analysis import languages

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
MINILM_NAME = "minilm"
ENCODE_BATCH = 32
BUILTIN_MODELS = (modelprep.E5_SMALL_NAME, MINILM_NAME, mpnetprep.MPNET_NAME)
# The embedding threads a thread asked for (limit_torch_threads); ONNX sessions follow it.
_threads = threading.local()


class ModelNotReady(DomainError):
    """A configured model cannot be loaded (not prepared, or not found)."""

    status = 503
    code = "model_not_ready"


@dataclass(frozen=True)
class ModelSpec:
    """One active embedding model: its key, the languages it serves, where it loads from,
    and where its ONNX export lives (None: torch only)."""

    key: str
    languages: tuple[str, ...]
    source: str
    onnx_dir: Path | None = None


def parse_models(setting: str, models_dir: Path) -> list[ModelSpec]:
    """Parse settings.models ("lang:model,..."; a bare model serves every language, '*')."""
    langs: dict[str, list[str]] = {}
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        lang, _, key = item.rpartition(":") if ":" in item.split("/")[0] else ("*", "", item)
        langs.setdefault(key.strip(), []).append(lang.strip() or "*")
    if not langs:
        raise ValueError("settings.models names no model")
    return [
        ModelSpec(key, tuple(ls), resolve_source(key, models_dir), onnx_dir(key, models_dir))
        for key, ls in langs.items()
    ]


def resolve_source(key: str, models_dir: Path) -> str:
    """Where a model key loads from: the prepared e5 or mpnet folder, the bundled MiniLM, or
    as given."""
    if key == modelprep.E5_SMALL_NAME:
        return str(Path(models_dir) / modelprep.E5_SMALL_NAME)
    if key == MINILM_NAME:
        return str(modelprep.minilm_path())
    if key == mpnetprep.MPNET_NAME:
        return str(Path(models_dir) / mpnetprep.MPNET_NAME)
    return key


def onnx_dir(key: str, models_dir: Path) -> Path | None:
    """Where `models prepare` exports a built-in model to ONNX: models_dir/<key>/onnx (next to
    the prepared e5 and mpnet weights; MiniLM's package folder stays untouched)."""
    return Path(models_dir) / key / onnxrun.ONNX_DIR if key in BUILTIN_MODELS else None


def export_onnx(models_dir: Path, *, force: bool = False) -> dict[str, str]:
    """Export every prepared built-in model to ONNX (quick when done); returns the models
    that torch must keep running, with the reason."""
    refused = {}
    for key in BUILTIN_MODELS:
        source = Path(resolve_source(key, models_dir))
        target = onnx_dir(key, models_dir)
        if target is None or (key == mpnetprep.MPNET_NAME and not mpnetprep.is_prepared(source)):
            continue
        try:
            onnxrun.export(source, target, name=key, force=force)
        except onnxrun.NotExportable as exc:
            refused[key] = str(exc)
    return refused


def as_array(value: Vector | Sequence[float] | np.ndarray) -> np.ndarray:
    """A float32 array from a pgvector Vector (what psycopg loads) or any sequence."""
    array = value.to_numpy() if isinstance(value, Vector) else value
    return np.asarray(array, dtype=np.float32)


def text_sha256(text: str) -> bytes:
    """The cache key of a text."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class ModelSet:
    """The active models, loaded on first use, and the choice of models per text."""

    def __init__(self, settings: Settings) -> None:
        self.specs = parse_models(settings.models, settings.models_dir)
        self._by_key = {spec.key: spec for spec in self.specs}
        self._loaded: dict[str, SentenceTransformer] = {}
        self.runtime = settings.model_runtime
        self._onnx: dict[str, onnxrun.OnnxEncoder | None] = {}
        self._lock = threading.Lock()
        # Running total for benchmarks: seconds spent in the model.
        self.encode_seconds = 0.0

    @property
    def keys(self) -> list[str]:
        return [spec.key for spec in self.specs]

    @property
    def primary(self) -> str:
        return self.specs[0].key

    def language_map(self) -> dict[str, list[str]]:
        """Language code -> model keys serving it ('*' for every language)."""
        out: dict[str, list[str]] = {}
        for spec in self.specs:
            for lang in spec.languages:
                out.setdefault(lang, []).append(spec.key)
        return out

    def models_for(self, text: str) -> list[str]:
        """The models whose vectors describe this text: the primary, plus language models."""
        langs = languages(text)
        chosen = [
            spec.key
            for i, spec in enumerate(self.specs)
            if i == 0 or "*" in spec.languages or langs.intersection(spec.languages)
        ]
        return chosen

    def spec(self, key: str) -> ModelSpec:
        if key not in self._by_key:
            raise KeyError(f"model {key!r} is not active (settings.models: {self.keys})")
        return self._by_key[key]

    def load(self, key: str) -> SentenceTransformer:
        """The SentenceTransformer of a model key, loaded once."""
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._load(self.spec(key))
            return self._loaded[key]

    def _load(self, spec: ModelSpec) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        source = Path(spec.source)
        prepared = {
            modelprep.E5_SMALL_NAME: modelprep.is_prepared,
            mpnetprep.MPNET_NAME: mpnetprep.is_prepared,
        }
        if spec.key in prepared and not prepared[spec.key](source):
            raise ModelNotReady(
                f"模型 {spec.key} 尚未准备 / model {spec.key} is not prepared at {source}: "
                "run `greenplat models prepare`"
            )
        from transformers.utils import logging as transformers_logging

        # A per-load weights bar on every command is noise; rebuild shows its own progress.
        transformers_logging.disable_progress_bar()
        try:
            # A folder loads offline; a hub name (a user with internet chose it) may download.
            return SentenceTransformer(spec.source, device="cpu", local_files_only=source.exists())
        except (OSError, ValueError) as exc:
            raise ModelNotReady(f"cannot load model {spec.key} from {spec.source}: {exc}") from exc

    def onnx_encoder(self, key: str) -> onnxrun.OnnxEncoder | None:
        """The model's ONNX encoder, or None when torch runs it (setting, or no export)."""
        spec = self.spec(key)
        if self.runtime not in ("onnx", "onnx-int8") or spec.onnx_dir is None:
            return None
        with self._lock:
            if key not in self._onnx:
                self._onnx[key] = onnxrun.load_encoder(
                    Path(spec.source), spec.onnx_dir, quantized=self.runtime == "onnx-int8"
                )
                if self._onnx[key] is None:
                    log.info("%s: no current ONNX export at %s, torch runs it", key, spec.onnx_dir)
            return self._onnx[key]

    def dim(self, key: str) -> int:
        encoder = self.onnx_encoder(key)
        if encoder is not None:
            return encoder.dim
        st = self.load(key)
        getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        size = getter()
        if size is None:  # a model without a pooling layer of known width
            raise ModelNotReady(f"model {key} does not state its vector size")
        return int(size)

    def raw_encode(self, texts: Sequence[str], *, model: str, kind: Kind) -> np.ndarray:
        """L2-normalised vectors straight from the model (sorted by length inside).

        Queries run on the model's ONNX session when there is one: 2x faster on short texts
        (a query's fixed cost). Passages run on torch: on batches of long texts ONNX Runtime
        was 1.2x slower and held 3.3 GB against torch's 1.2 GB (docs/indexer.md).
        """
        if not texts:
            return np.zeros((0, self.dim(model)), dtype=np.float32)
        encoder = self.onnx_encoder(model) if kind == "query" else None
        started = time.perf_counter()
        if encoder is not None:
            vectors = encoder.encode(
                texts, kind=kind, threads=embed_threads(), batch_size=ENCODE_BATCH
            )
        else:
            vectors = self._torch_encode(texts, model=model, kind=kind)
        self.encode_seconds += time.perf_counter() - started
        return np.asarray(vectors, dtype=np.float32)

    def _torch_encode(self, texts: Sequence[str], *, model: str, kind: Kind) -> np.ndarray:
        st = self.load(model)
        prompt = kind if kind in (getattr(st, "prompts", None) or {}) else None
        return st.encode(
            list(texts),
            prompt_name=prompt,
            batch_size=ENCODE_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


def limit_torch_threads(threads: int) -> None:
    """Run this thread's torch operations and ONNX sessions on at most `threads` threads (a
    per-thread setting)."""
    import torch

    torch.set_num_threads(threads)
    _threads.limit = threads


def embed_threads() -> int:
    """The threads this thread's models may use: its limit, else torch's (its cores)."""
    limit = getattr(_threads, "limit", None)
    if limit is not None:
        return int(limit)
    import torch

    return int(torch.get_num_threads())


class EmbeddingCache:
    """Passage vectors by (model, sha256 of text): unchanged text is never embedded twice."""

    def get(self, conn: Connection, model: str, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        rows = conn.execute(
            "SELECT text_sha256, embedding FROM embedding_cache"
            " WHERE model = %s AND text_sha256 = ANY(%s)",
            (model, keys),
            binary=True,  # numpy reads the binary form directly; the text form is parsed
        ).fetchall()
        return {bytes(row["text_sha256"]): as_array(row["embedding"]) for row in rows}

    def put(self, conn: Connection, model: str, items: dict[bytes, np.ndarray]) -> None:
        if not items:
            return
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO embedding_cache (model, text_sha256, embedding) VALUES (%s, %s, %s)"
                " ON CONFLICT (model, text_sha256) DO UPDATE SET embedding = EXCLUDED.embedding",
                [(model, key, vector) for key, vector in items.items()],
            )


def encode_passages(
    models: ModelSet,
    conn: Connection,
    texts: Sequence[str],
    *,
    model: str,
    refresh: bool = False,
) -> np.ndarray:
    """Passage vectors of texts, from the cache where possible; refresh re-embeds everything."""
    cache = EmbeddingCache()
    keys = [text_sha256(text) for text in texts]
    known = {} if refresh else cache.get(conn, model, list(set(keys)))
    missing: dict[bytes, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known:
            missing.setdefault(key, text)
    if missing:
        fresh = models.raw_encode(list(missing.values()), model=model, kind="passage")
        new = dict(zip(missing.keys(), fresh, strict=True))
        cache.put(conn, model, new)
        known.update(new)
    if not texts:
        return np.zeros((0, models.dim(model)), dtype=np.float32)
    return np.stack([known[key] for key in keys])
