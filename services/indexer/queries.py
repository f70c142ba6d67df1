"""Query embedding for concurrent requests: one worker, micro-batches, an LRU of vectors.

Requests do not run the model themselves: each hands its text to one worker thread and waits.
The worker embeds every query that arrived within a few milliseconds of the first in one call
per model (a batch of eight costs little more than one query), with the model (its ONNX
session, or torch) limited to the threads the settings give it, so concurrent requests never
fight over the cores. Repeated queries (one match searches several libraries with the same
text) come from the cache.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from greenplat.indexer.embedding import ModelSet, limit_torch_threads

log = logging.getLogger(__name__)

# Longest batch the worker embeds at once; more queries wait for the next batch.
MAX_BATCH = 32
# The model releases the GIL around each of its few hundred torch operations and waits for it
# again after each one; with request threads busy in Python, every wait lasts the interpreter's
# switch interval (5 ms by default): one query took 1.8 s instead of 37 ms next to eight busy
# threads, 0.4 s at 0.5 ms (docs/matching.md, "Load"). An ONNX session waits once per call.
SWITCH_INTERVAL = 0.0005


@dataclass
class _Query:
    model: str
    text: str
    future: Future[np.ndarray] = field(default_factory=Future)


class QueryCache:
    """The most recently used query vectors, by (model, text)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(key)
            if vector is not None:
                self._items.move_to_end(key)
            return vector

    def put(self, key: tuple[str, str], vector: np.ndarray) -> None:
        with self._lock:
            self._items[key] = vector
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class QueryEncoder:
    """Embeds queries on one worker thread, batching those that arrive together."""

    def __init__(
        self, models: ModelSet, *, threads: int, window_ms: float, cache_size: int
    ) -> None:
        self.models = models
        self.threads = threads
        self.window = window_ms / 1000.0
        self.cache = QueryCache(cache_size)
        self.batches = 0  # model calls made, for tests and benchmarks
        self._queue: queue.Queue[_Query | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        # Queries handed to the worker and not yet answered, so a second ask waits for the
        # first instead of embedding the text again.
        self._pending: dict[tuple[str, str], Future[np.ndarray]] = {}

    def vector(self, text: str, *, model: str) -> np.ndarray:
        """The L2-normalised query vector of text under model."""
        cached = self.cache.get((model, text))
        if cached is not None:
            return cached
        return self._submit(text, model).result()

    def prefetch(self, text: str, *, model: str) -> None:
        """Start embedding text now and return at once: a request that has other work to do
        first (a word search in the database) later gets the vector without waiting for all
        of it."""
        if self.cache.get((model, text)) is None:
            self._submit(text, model)

    def _submit(self, text: str, model: str) -> Future[np.ndarray]:
        key = (model, text)
        with self._lock:
            future = self._pending.get(key)
            if future is not None:
                return future
            query = _Query(model, text)
            self._pending[key] = query.future
        query.future.add_done_callback(lambda done: self._settle(key, done))
        self._start()
        self._queue.put(query)
        return query.future

    def _settle(self, key: tuple[str, str], future: Future[np.ndarray]) -> None:
        if future.exception() is None:
            self.cache.put(key, future.result())
        with self._lock:
            self._pending.pop(key, None)

    def prime(self, texts: list[str], *, model: str, wait: bool = True) -> None:
        """Embed texts not yet cached, in batches, for a command that knows its queries in
        advance (a batch of 32 costs a few single queries); with wait=False, hand them to the
        worker and return, so the command's other work runs while they embed."""
        missing = [t for t in dict.fromkeys(texts) if self.cache.get((model, t)) is None]
        # Queued together, the worker takes them MAX_BATCH at a time, with its torch threads:
        # the caller's thread would run the model on every core and fight the database.
        futures = [self._submit(text, model) for text in missing]
        if wait:
            for future in futures:
                future.result()

    def close(self) -> None:
        """Stop the worker after the queries already handed to it."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join()

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                # Process-wide, so set once, and only lowered: a process that embeds queries
                # serves them faster when the worker gets the GIL back sooner.
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
                self._worker = threading.Thread(
                    target=self._run, name="greenplat-query-encoder", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        # The model runs on this thread only, with the threads the API has to spare.
        limit_torch_threads(self.threads)
        while True:
            batch, stop = self._collect()
            if batch:
                self._encode(batch)
            if stop:
                return

    def _collect(self) -> tuple[list[_Query], bool]:
        """The first waiting query and those arriving within the window after it."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = time.monotonic() + self.window
        while len(batch) < MAX_BATCH:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _encode(self, batch: list[_Query]) -> None:
        by_model: dict[str, list[_Query]] = {}
        for query in batch:
            by_model.setdefault(query.model, []).append(query)
        for model, queries in by_model.items():
            texts = list(dict.fromkeys(q.text for q in queries))
            try:
                vectors = self.models.raw_encode(texts, model=model, kind="query")
            except Exception as error:  # noqa: BLE001 - handed to every waiting request
                for query in queries:
                    query.future.set_exception(error)
                continue
            self.batches += 1
            by_text = dict(zip(texts, vectors, strict=True))
            for query in queries:
                query.future.set_result(by_text[query.text])
