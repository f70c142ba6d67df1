"""The scoring maths: expert affinity from works and profile, re-ranking signals.

Every function here is pure (numbers in, numbers out) so that evaluation, the service and the
benchmark all score the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from greenplat.matcher.relevance import Level

# An expert is judged by the few works closest to the problem (TPMS / OpenReview style): the
# best three balance one lucky paper against a long tail of unrelated ones.
TOP_WORKS = 3
# Up to this many works, top_works sorts in plain Python.
SMALL = 32
# Weight of what an expert has done against what their profile says, when both exist.
WORKS_WEIGHT = 0.5
# Re-ranking never outweighs relevance: the signals move a score by at most this share.
SIGNAL_WEIGHT = 0.1


@dataclass(frozen=True)
class Signals:
    """Agreement between a source and a candidate beyond text: each in [0, 1] or None."""

    field: float | None = None
    region: float | None = None
    recency: float | None = None
    availability: float | None = None

    def mean(self) -> float | None:
        signals = (self.field, self.region, self.recency, self.availability)
        values = [v for v in signals if v is not None]
        return sum(values) / len(values) if values else None


@dataclass
class Components:
    """How a match score was built; explanations print these."""

    relevance: float
    works: float | None = None
    profile: float | None = None
    lexical_rank: int | None = None
    vector_rank: int | None = None
    signals: Signals = field(default_factory=Signals)
    score: float = 0.0
    # The relevance bar's calibrated probability and its level (None: below the bar).
    probability: float | None = None
    level: Level | None = None


def top_mean(similarities: np.ndarray, top: int = TOP_WORKS) -> float:
    """Mean of the `top` largest similarities (all of them when fewer)."""
    if similarities.size == 0:
        raise ValueError("no similarities")
    if similarities.size > top:
        similarities = np.partition(similarities, -top)[-top:]
    return float(similarities.mean())


def top_works(
    similarities: np.ndarray | list[float], top: int = TOP_WORKS
) -> tuple[list[int], float]:
    """Positions of the `top` largest similarities, largest first (ties in their order), and
    the mean of those (top_mean). Plain Python for the few works most experts have: numpy's
    per-call cost was most of a match's scoring of a few hundred candidates."""
    values = similarities if isinstance(similarities, list) else similarities.tolist()
    if not values:
        raise ValueError("no similarities")
    if len(values) > SMALL:
        order = np.argsort(-np.asarray(values), kind="stable")[:top].tolist()
    else:
        order = sorted(range(len(values)), key=values.__getitem__, reverse=True)[:top]
    return order, sum(values[i] for i in order) / len(order)


def expert_affinity(works: float | None, profile: float | None) -> float | None:
    """An expert's affinity: works and profile weigh equally; either alone when one is missing."""
    if works is None:
        return profile
    if profile is None:
        return works
    return WORKS_WEIGHT * works + (1 - WORKS_WEIGHT) * profile


def rerank(relevance: float, signals: Signals) -> float:
    """Final score: relevance nudged by field, region and recency agreement."""
    bonus = signals.mean()
    if bonus is None:
        return relevance
    return (1 - SIGNAL_WEIGHT) * relevance + SIGNAL_WEIGHT * bonus


def field_agreement(source: Iterable[str | None], candidate: Iterable[str | None]) -> float | None:
    """1 when source and candidate share an industry/discipline label, 0 when both name some."""
    left = {_norm(v) for v in source if v and v.strip()}
    right = {_norm(v) for v in candidate if v and v.strip()}
    if not left or not right:
        return None
    return 1.0 if left & right else 0.0


def region_agreement(source: str | None, candidate: str | None) -> float | None:
    """1 for the same region, 0 for a different one, None when either is unknown."""
    if not source or not candidate:
        return None
    return 1.0 if _norm(source) == _norm(candidate) else 0.0


def recency(year: int | None, this_year: int, half_life: float = 8.0) -> float | None:
    """How recent a work is: 1 this year, halving every half_life years."""
    if year is None:
        return None
    return float(0.5 ** (max(this_year - year, 0) / half_life))


def availability(open_requests: int, capacity: int | None) -> float | None:
    """Share of an expert's capacity still free (1 idle, 0 full); None when unlimited."""
    if capacity is None:
        return None
    return 0.0 if capacity <= 0 else 1.0 - min(open_requests / capacity, 1.0)


def _norm(value: str) -> str:
    return value.strip().casefold()
