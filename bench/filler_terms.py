"""Build the filler-term list the explanations drop (services/matcher/filler_terms.txt).

    python -m bench.filler_terms --library ../shared/data/csl-dev-papers.jsonl

A term is filler when it turns up across many fields: a word found in the records of at
least SPREAD of a library's disciplines (给出、超过、低于、方案、以上、现有、开发) says nothing
about why two records meet, while a topic word (热失控、储能、电池) stays within a few. The
library's records are the evidence; nothing of them but the generic words is kept.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from bench.evaldata import read
from greenplat.matcher.explain import FILLER_FILE, key_terms

SPREAD = 0.12
HEADER = (
    "# Filler terms: words found across at least {spread:.0%} of the {labels} disciplines of the\n"
    "# library they were built from; explanations never show them as shared key terms.\n"
    "# Rebuild: python -m bench.filler_terms --library FILE.jsonl (see its docstring).\n"
)


def spread_terms(records: list[dict], spread: float = SPREAD) -> tuple[list[str], int]:
    """Terms found in the records of at least `spread` of the labels (discipline/industry)."""
    labels: dict[str, set[str]] = defaultdict(set)
    seen = set()
    for record in records:
        label = record.get("discipline") or record.get("industry")
        if not label:
            continue
        seen.add(label)
        text = " ".join(str(record.get(k) or "") for k in ("title", "abstract", "description"))
        for term in set(key_terms(text)):
            labels[term].add(label)
    threshold = max(2, round(spread * len(seen)))
    return sorted(t for t, found in labels.items() if len(found) >= threshold), len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, default=FILLER_FILE)
    args = parser.parse_args()
    records = [row for path in args.library for row in read(path)]
    terms, labels = spread_terms(records)
    header = HEADER.format(spread=SPREAD, labels=labels)
    args.out.write_text(header + "\n".join(terms) + "\n", encoding="utf-8")
    print(f"{len(terms)} filler terms from {len(records)} records, {labels} disciplines")


if __name__ == "__main__":
    main()
