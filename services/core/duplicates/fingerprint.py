"""Text fingerprints: normalised text, jieba word shingles, an exact key, MinHash, similarity.

Within one organization the candidates are few, so the detector computes the Jaccard
similarity MinHash estimates exactly; minhash() serves callers that compare many
texts at once (bench/duplicates.py measures both on the same labelled set).
"""

from __future__ import annotations

import hashlib
import unicodedata

import numpy as np

from greenplat.core.segmenter import segmenter

SHINGLE = 2  # words per shingle
_PERMUTATIONS = 126
# LSH: 42 bands of 3 values. Two texts share a band with probability 1 - (1 - J^3)^42:
# 0.996 at Jaccard 0.5, 0.29 at 0.2, so candidates are few and near-duplicates rarely missed.
BAND_ROWS = 3
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20261201)
_A = _rng.integers(1, _PRIME, _PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, _PERMUTATIONS, dtype=np.uint64)


def normalise(text: str) -> str:
    """NFKC, lower case, letters and digits only: spacing and punctuation do not count."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def exact_key(title: str, body: str) -> str:
    """Equal for texts that differ only in spacing, punctuation, case or full-width forms."""
    return hashlib.sha256(f"{normalise(title)}\x1f{normalise(body)}".encode()).hexdigest()


def words(text: str) -> list[str]:
    """jieba words of the normalised text."""
    return [w for w in segmenter().lcut(normalise(text)) if w]


def shingles(text: str, size: int = SHINGLE) -> frozenset[str]:
    """Runs of `size` consecutive words (the single words for shorter texts)."""
    tokens = words(text)
    if len(tokens) < size:
        return frozenset(tokens)
    return frozenset(" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared shingles over all shingles of the two texts (what MinHash estimates)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def minhash(items: frozenset[str]) -> np.ndarray:
    """A MinHash signature of a shingle set (values below 2^61, so they fit a bigint)."""
    if not items:
        return np.full(_PERMUTATIONS, _PRIME, dtype=np.uint64)
    hashes = np.array(
        [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest()) for s in items],
        dtype=np.uint64,
    )
    with np.errstate(over="ignore"):
        mixed = (hashes[:, None] * _A[None, :] + _B[None, :]) % np.uint64(_PRIME)
    return mixed.min(axis=0)


def minhash_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The Jaccard similarity two signatures estimate."""
    return float(np.mean(a == b))


def bands(signature: np.ndarray) -> list[int]:
    """One hash per band of BAND_ROWS signature values, tagged with the band's number."""
    out = []
    for number, start in enumerate(range(0, len(signature), BAND_ROWS)):
        chunk = signature[start : start + BAND_ROWS].tobytes() + number.to_bytes(2)
        out.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), signed=True))
    return out
