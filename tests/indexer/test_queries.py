"""Query embedding under concurrency: one worker, micro-batches, a cache, bounded torch threads."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest
import torch

from greenplat.indexer.embedding import ModelNotReady, ModelSet
from greenplat.indexer.queries import SWITCH_INTERVAL, QueryEncoder

TEXTS = [
    "battery thermal runaway in electric scooters",
    "membrane fouling in seawater desalination",
    "state of charge estimation drifts",
    "cement kiln waste heat recovery",
    "wheat leaf disease detection by drone",
    "hydrogen storage in metal hydrides",
    "noise barriers along highways",
    "perovskite solar cell stability",
]


@pytest.fixture(scope="module")
def minilm(settings) -> ModelSet:
    return ModelSet(settings.model_copy(update={"models": "en:minilm"}))


@pytest.fixture
def encoder(minilm):
    made = QueryEncoder(minilm, threads=1, window_ms=50, cache_size=64)
    yield made
    made.close()


def _all_at_once(encoder: QueryEncoder, texts: list[str]) -> list[np.ndarray]:
    """Each text from its own thread, all released together, as concurrent requests do."""
    start = threading.Barrier(len(texts))
    out: list[np.ndarray | None] = [None] * len(texts)

    def ask(i: int) -> None:
        start.wait()
        out[i] = encoder.vector(texts[i], model="minilm")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [vector for vector in out if vector is not None]


def test_concurrent_queries_share_model_calls_and_match_single_embeddings(encoder, minilm):
    vectors = _all_at_once(encoder, TEXTS)
    assert len(vectors) == len(TEXTS)
    assert encoder.batches < len(TEXTS) / 2  # arrivals within 50 ms share one call
    for text, vector in zip(TEXTS, vectors, strict=True):
        alone = minilm.raw_encode([text], model="minilm", kind="query")[0]
        assert np.allclose(vector, alone, atol=1e-4)


def test_without_a_wait_queries_that_arrive_during_a_model_call_share_the_next(minilm, monkeypatch):
    calls: list[list[str]] = []
    encode = minilm.raw_encode
    busy = threading.Event()

    def slow(texts, **kwargs):
        calls.append(list(texts))
        busy.set()
        time.sleep(0.3)  # the first call is still running when the others arrive
        return encode(texts, **kwargs)

    monkeypatch.setattr(minilm, "raw_encode", slow)
    encoder = QueryEncoder(minilm, threads=1, window_ms=0, cache_size=0)
    try:
        first = threading.Thread(
            target=encoder.vector, args=(TEXTS[0],), kwargs={"model": "minilm"}
        )
        first.start()
        assert busy.wait(5)  # no wait for company: the lone query went straight to the model
        vectors = _all_at_once(encoder, TEXTS[1:4])
        first.join()
    finally:
        encoder.close()
    assert len(calls) == 2 and calls[0] == [TEXTS[0]]
    assert sorted(calls[1]) == sorted(TEXTS[1:4])  # the three waited together
    assert len(vectors) == 3


def test_a_repeated_query_comes_from_the_cache(encoder):
    first = encoder.vector(TEXTS[0], model="minilm")
    again = encoder.vector(TEXTS[0], model="minilm")
    assert encoder.batches == 1
    assert np.array_equal(first, again)


def test_the_model_runs_with_the_torch_threads_the_encoder_is_given(minilm, monkeypatch):
    seen: list[int] = []
    encode = minilm.raw_encode

    def observed(*args, **kwargs):
        seen.append(torch.get_num_threads())  # in the thread that runs the model
        return encode(*args, **kwargs)

    monkeypatch.setattr(minilm, "raw_encode", observed)
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # what new threads start with unless told otherwise
    encoder = QueryEncoder(minilm, threads=1, window_ms=0, cache_size=0)
    try:
        encoder.vector(TEXTS[1], model="minilm")
    finally:
        encoder.close()
        torch.set_num_threads(before)
    assert seen == [1]


def test_a_model_that_cannot_load_fails_every_waiting_query(settings):
    broken = ModelSet(settings.model_copy(update={"models": "/nonexistent/model"}))
    encoder = QueryEncoder(broken, threads=1, window_ms=20, cache_size=8)
    try:
        with pytest.raises(ModelNotReady):
            encoder.vector("anything", model="/nonexistent/model")
        with pytest.raises(ModelNotReady):
            encoder.vector("anything", model="/nonexistent/model")  # failures are not cached
    finally:
        encoder.close()


def test_primed_queries_are_served_from_the_cache_with_their_single_embeddings(encoder, minilm):
    encoder.prime(TEXTS, model="minilm")
    assert encoder.batches == 1  # all of them in one model call
    vectors = [encoder.vector(text, model="minilm") for text in TEXTS]
    assert encoder.batches == 1  # nothing left for the worker to embed
    for text, vector in zip(TEXTS, vectors, strict=True):
        alone = minilm.raw_encode([text], model="minilm", kind="query")[0]
        assert np.allclose(vector, alone, atol=1e-5)


def test_a_serving_encoder_lowers_the_switch_interval_so_its_worker_regains_the_gil(encoder):
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # the interpreter's default
    try:
        encoder.vector(TEXTS[2], model="minilm")
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    finally:
        sys.setswitchinterval(before)


def test_a_prefetched_query_is_embedded_once_and_waited_for(encoder, minilm):
    direct = minilm.raw_encode([TEXTS[0]], model="minilm", kind="query")[0]
    encoder.prefetch(TEXTS[0], model="minilm")
    encoder.prefetch(TEXTS[0], model="minilm")  # asked again while pending: no second call
    vector = encoder.vector(TEXTS[0], model="minilm")
    assert float(vector @ direct) > 0.9999
    assert encoder.batches == 1
    encoder.prefetch(TEXTS[0], model="minilm")  # cached now: nothing to do
    assert encoder.vector(TEXTS[0], model="minilm") is vector
    assert encoder.batches == 1
