"""The shipped reference lists, and matching a text to them (exact, alias, or closest)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

KINDS = ("region", "industry", "discipline")
_FILES = {"region": "regions.json", "industry": "industries.json", "discipline": "disciplines.json"}
# English suffixes a region name may carry ("Jiangsu Province", "Hong Kong SAR").
_REGION_SUFFIXES = (
    "specialadministrativeregion",
    "autonomousregion",
    "municipality",
    "province",
    "sheng",
    "city",
    "sar",
    "shi",
)


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ReferenceList:
    kind: str
    source: str
    entries: tuple[Entry, ...]

    def names(self) -> list[str]:
        return [e.name for e in self.entries]


@cache
def reference_list(kind: str) -> ReferenceList:
    """The list of this kind as shipped in reference/data (read once; it never changes)."""
    text = resources.files("greenplat.core.reference").joinpath("data", _FILES[kind])
    doc = json.loads(text.read_text(encoding="utf-8"))
    entries = tuple(Entry(e["code"], e["name"], tuple(e["aliases"])) for e in doc["entries"])
    return ReferenceList(kind, doc["source"], entries)


def key(kind: str, text: str) -> str:
    """The form two spellings of one value share: NFKC, case-folded, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(c for c in folded if unicodedata.category(c)[0] in "LN")
    if kind == "region" and kept.isascii():
        for suffix in _REGION_SUFFIXES:
            if kept.endswith(suffix) and len(kept) > len(suffix):
                return kept[: -len(suffix)]
    return kept


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """Half character overlap (Jaccard), half edit-distance ratio: 1.0 for equal texts."""
    if not a or not b:
        return 0.0
    overlap = len(set(a) & set(b)) / len(set(a) | set(b))
    edit = 1 - _levenshtein(a, b) / max(len(a), len(b))
    return (overlap + edit) / 2


def closest(kind: str, text: str, spellings: dict[str, str], n: int = 3) -> list[str]:
    """The n canonical values whose name or alias is most like text (spellings: key -> name)."""
    wanted = key(kind, text)
    best: dict[str, float] = {}
    for spelled, name in spellings.items():
        score = similarity(wanted, spelled)
        if score > best.get(name, -1.0):
            best[name] = score
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, _ in ranked[:n]]
