"""The relevance bar: whether a candidate is a real match, from scores calibrated on data.

A candidate's evidence is two numbers: the cosine between source and candidate under one
embedding model, and the share of the source's telling terms (IDF-weighted) the candidate
also holds. A logistic fitted per model and direction turns them into the probability that
the candidate is a real match (calibration.json, refitted by `python -m bench.relevance_fit`;
docs/evaluation.md says how). Below the bar nothing is shown; above it, the probability is
told as a level a person understands.

Directions: "search" compares a text embedded as a query with records (free text,
achievement -> problems); "record" compares two stored records (a problem with achievements,
an expert's works or profile with a problem: problem -> achievements, problem -> experts and
the expert inbox).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from greenplat.indexer.analysis import languages
from greenplat.indexer.translation import held_translations, term_translations
from greenplat.matcher.explain import held_terms, idf_weights, key_terms

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
Direction = Literal["search", "record"]
Level = Literal["high", "good", "possible"]
LEVELS: tuple[Level, ...] = ("high", "good", "possible")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Fit:
    """One fitted logistic and its thresholds for a (model, direction)."""

    cosine: float
    coverage: float
    intercept: float
    bar: float
    good: float
    high: float

    def probability(self, cosine: float, coverage: float) -> float:
        """P(real match | evidence), as fitted."""
        z = self.cosine * cosine + self.coverage * coverage + self.intercept
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


@functools.cache
def calibration(path: Path = CALIBRATION_FILE) -> dict[tuple[str, str], Fit]:
    """(model, direction) -> fit, read once from the calibration file kept in the repo."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        (model, direction): Fit(**fit)
        for model, directions in data["models"].items()
        for direction, fit in directions.items()
    }


@functools.cache
def _language_gaps(path: Path = CALIBRATION_FILE) -> dict[tuple[str, str], float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        (model, direction): float(gap)
        for model, directions in data.get("language_gap", {}).items()
        for direction, gap in directions.items()
    }


def language_gap(model: str | None, direction: Direction) -> float:
    """How much lower a model's cosines are across English and Chinese than within one
    language (measured by bench.relevance_fit --language-gap); 0 when not measured."""
    return _language_gaps().get((model or "", direction), 0.0)


def crosses(source: str | None, candidate: Iterable[str | None]) -> bool:
    """Whether source and candidate are written in different languages (English, Chinese)."""
    mine = languages(source)
    theirs = frozenset().union(*(languages(text) for text in candidate))
    return bool(mine) and bool(theirs) and mine.isdisjoint(theirs)


def fit_for(model: str | None, direction: Direction) -> Fit | None:
    """The calibration of a model and direction; None when that model was never fitted."""
    return calibration().get((model or "", direction))


@dataclass(frozen=True)
class Verdict:
    """A candidate judged against the bar."""

    probability: float | None  # None: the model is not calibrated, nothing to judge by
    level: Level | None

    @property
    def passes(self) -> bool:
        return self.level is not None


def judge(model: str | None, direction: Direction, cosine: float, coverage: float) -> Verdict:
    """The calibrated probability of a candidate and its level (None below the bar).

    An uncalibrated model judges nothing: every candidate is shown as a possible match, so a
    new model degrades to the old behaviour instead of hiding everything.
    """
    fit = fit_for(model, direction)
    if fit is None:
        return Verdict(None, "possible")
    p = fit.probability(cosine, coverage)
    if p >= fit.high:
        return Verdict(p, "high")
    if p >= fit.good:
        return Verdict(p, "good")
    return Verdict(p, "possible" if p >= fit.bar else None)


def at_least(level: str | None, lowest: Level) -> bool:
    """Whether a level is `lowest` or better (high > good > possible)."""
    return level in LEVELS[: LEVELS.index(lowest) + 1]


def surely_below(model: str | None, direction: Direction, cosine: float) -> Verdict | None:
    """The verdict when a cosine misses the bar even with every term shared, else None."""
    fit = fit_for(model, direction)
    if fit is None or fit.probability(cosine, 1.0) >= fit.bar:
        return None
    return Verdict(fit.probability(cosine, 0.0), None)


class Terms:
    """A source's telling terms with their weights, to measure coverage of many candidates.

    With `parts`, a one-line Chinese query written as several space-separated parts ("量子计算
    芯片") asks for all of them: a candidate that does not hold every part gets no credit for
    its words (coverage 0, so only its meaning can carry it), and one shared generic term is
    not enough to pass.
    """

    def __init__(
        self,
        text: str | None,
        *,
        parts: bool = False,
        translate: bool = True,
        held: Mapping[str, int] | None = None,
    ) -> None:
        self.weights = idf_weights(key_terms(text))
        self.total = sum(self.weights.values())
        self.parts = _query_parts(text) if parts else []
        # A source in one language holds its terms in the other too: an English need and a
        # Chinese record share "battery" when the record says 电池. With `held` (the library's
        # counts of the Chinese words an English query may mean, Indexer.held_counts), the
        # words its search chose count as well: the dictionary's likeliest word alone found
        # 38 % of the coverage the same title has in Chinese (docs/evaluation.md).
        self.translations = (
            {
                term: term_translations(term) | (held_translations(term, held) if held else set())
                for term in self.weights
            }
            if translate and len(languages(text)) == 1
            else {}
        )
        if held and self.translations:
            # An English word weighs what its Chinese words weigh (jieba's IDF knows no
            # English: every English word would count as the median, "design" as much as
            # "quantum", and 设计 would carry a query).
            self.weights = {
                term: _translated_weight(weight, self.translations.get(term, frozenset()))
                for term, weight in self.weights.items()
            }
            self.total = sum(self.weights.values())

    def coverage(self, candidate: Iterable[str | None]) -> float:
        """Share of the source's term weight that the candidate's texts also hold (0..1)."""
        if not self.total:
            return 0.0
        texts = [text for text in candidate if text]
        if not all(_holds(part, texts) for part in self.parts):
            return 0.0
        findable = [*self.weights, *(t for ts in self.translations.values() for t in ts)]
        have = held_terms(findable, texts)
        held = sum(
            w
            for t, w in self.weights.items()
            if t in have or not have.isdisjoint(self.translations.get(t, ()))
        )
        return held / self.total


def _translated_weight(weight: float, translations: frozenset[str]) -> float:
    """A term's weight from its translations' IDF (their mean), else its own."""
    known = idf_weights([t for t in translations if _CJK.search(t)])
    return sum(known.values()) / len(known) if known else weight


def _query_parts(text: str | None) -> list[set[str]]:
    """The pieces of each space-separated part of a one-line Chinese query: its character
    pairs (a word segmenter splits 锂电池 and 锂离子电池 differently) and its other words."""
    if not text or "\n" in text.strip() or not _CJK.search(text):
        return []
    parts = [_pieces(chunk) for chunk in text.split() if key_terms(chunk)]
    return parts if len(parts) > 1 else []


def _pieces(chunk: str) -> set[str]:
    out = {m.lower() for m in re.findall(r"[A-Za-z0-9]{2,}", chunk)}
    for run in re.findall(r"[\u4e00-\u9fff]+", chunk):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _holds(part: set[str], texts: list[str]) -> bool:
    """Whether the candidate holds at least half of a query part's pieces."""
    text = " ".join(texts).lower()
    return 2 * sum(piece in text for piece in part) >= len(part)
