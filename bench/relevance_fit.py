"""Refit the relevance bar (services/matcher/calibration.json) from the shared dev data.

    python -m bench.relevance_fit --data /work/shared/data --out services/matcher/calibration.json

Per model and direction, a logistic turns (cosine, IDF-weighted term coverage) into the
probability that a candidate is a real match. Positives: a query and its own paper. Negatives:
the ten best candidates (by cosine and by coverage) of queries that nothing in the library
fits: CSL papers of the humanities, social-science and economics disciplines against the
technology papers, English out-of-domain queries (bench/data) against the English expertise
papers, and gibberish. The bar is at most the probability that keeps 98% of in-domain
positives, or lower while still 90% of the nothing-fits queries get no match (a real match
on a neighbouring topic is less alike than a paper and its own title). Cross-validation: fit
on half the disciplines, measure on the other half, and back.

Directions: "search" embeds the source as a query (keywords, titles); "record" embeds both
sides as passages (a title against a paper, as a problem against an expert's works). The
library is embedded once, as the index embeds it (title, keywords, abstract), so a title's
own paper is an easy positive; the bar is mostly set by the nothing-fits side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.abstention import OUT_OF_DOMAIN, gibberish
from bench.evaldata import read
from greenplat.core.settings import get_settings
from greenplat.indexer.embedding import ModelSet
from greenplat.matcher.explain import key_terms
from greenplat.matcher.relevance import Terms

ENGLISH_OOD = Path(__file__).with_name("data") / "english_out_of_domain.txt"
TOP = 10
KEEP_RECALL = 0.98
ABSTAIN = 0.9
GOOD, HIGH = 0.8, 0.95


@dataclass
class Query:
    text: str
    own: int | None  # index of the relevant library text; None: nothing fits
    group: str  # discipline (for cross-validation) or a fixed label


@dataclass
class Task:
    """One library and its queries for one direction ("search" or "record")."""

    library: list[str]
    queries: list[Query]
    kind: str  # how queries are embedded: "query" or "passage"
    rows: list[tuple[float, float, int, str, int]] = field(default_factory=list)


def _join(*parts) -> str:
    out = []
    for part in parts:
        if isinstance(part, list):
            part = "；".join(part)
        if part and str(part).strip():
            out.append(str(part).strip())
    return "\n".join(out)


def chinese_tasks(data: Path) -> dict[str, Task]:
    papers = list(read(data / "csl-dev-papers.jsonl"))
    lib = [p for p in papers if p["discipline"] not in OUT_OF_DOMAIN]
    index = {p["id"]: i for i, p in enumerate(lib)}
    full = [_join(p["title"], p["keywords"], p["abstract"]) for p in lib]
    junk = [Query(t, None, "gibberish") for t in gibberish(50)]
    keywords = [Query(" ".join(p["keywords"]), index.get(p["id"]), p["discipline"]) for p in papers]
    titles = [Query(p["title"], index.get(p["id"]), p["discipline"]) for p in papers]
    return {
        "search-keywords": Task(full, keywords + junk, "query"),
        "search-titles": Task(full, titles + junk, "query"),
        "record-titles": Task(full, titles + junk, "passage"),
    }


def english_tasks(data: Path) -> dict[str, Task]:
    problems, works = {}, {}
    for folder in sorted(data.glob("expertise-dev-d_20_*")):
        problems.update({r["external_id"]: r for r in read(folder / "problems.jsonl")})
        works.update({r["external_id"]: r for r in read(folder / "achievements.jsonl")})
    library = [_join(w["title"], w.get("abstract")) for w in works.values()]
    library += [p["description"] for p in problems.values()]
    first = len(works)
    ood = [
        line.strip()
        for line in ENGLISH_OOD.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    negatives = [Query(t, None, f"en-ood-{i % 2}") for i, t in enumerate(ood)]
    negatives += [Query(t, None, "gibberish") for t in gibberish(50) if t.isascii()]
    titles = [Query(p["title"], first + i, f"en-{i % 2}") for i, p in enumerate(problems.values())]
    return {
        "search-en": Task(library, titles + negatives, "query"),
        "record-en": Task(library, titles + negatives, "passage"),
    }


def encode(models: ModelSet, model: str, texts: list[str], kind: str, cache: Path) -> np.ndarray:
    key = hashlib.sha256(json.dumps([model, kind, texts]).encode()).hexdigest()[:16]
    path = cache / f"{model}-{kind}-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = models.raw_encode(texts, model=model, kind=kind)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def features(task: Task, models: ModelSet, model: str, cache: Path) -> None:
    """Rows (cosine, coverage, label, group, query) of each query's candidates."""
    lib = encode(models, model, task.library, "passage", cache)
    queries = encode(models, model, [q.text for q in task.queries], task.kind, cache)
    lib_terms = [set(key_terms(t)) for t in task.library]
    sims = queries @ lib.T
    for n, (query, row) in enumerate(zip(task.queries, sims, strict=True)):
        terms = Terms(query.text)
        cover = np.array([_cover(terms, have) for have in lib_terms])
        picked = set(np.argsort(-row)[:TOP]) | set(np.argsort(-cover)[:TOP])
        for i in picked:
            if query.own is None or i == query.own:
                label = int(i == query.own)
                task.rows.append((float(row[i]), float(cover[i]), label, query.group, n))
        if query.own is not None and query.own not in picked:
            i = query.own
            task.rows.append((float(row[i]), float(cover[i]), 1, query.group, n))


def _cover(terms: Terms, have: set[str]) -> float:
    if not terms.total:
        return 0.0
    return sum(w for t, w in terms.weights.items() if t in have) / terms.total


def fit(rows: list[tuple]) -> dict[str, float]:
    x = np.array([[r[0], r[1]] for r in rows])
    y = np.array([r[2] for r in rows])
    model = LogisticRegression(C=10.0, class_weight="balanced").fit(x, y)
    p = model.predict_proba(x)[:, 1]
    keep = float(np.quantile(p[y == 1], 1 - KEEP_RECALL))
    best: dict[int, float] = {}
    for row, prob in zip(rows, p, strict=True):
        if row[2] == 0:
            best[row[4]] = max(best.get(row[4], 0.0), float(prob))
    abstain = float(np.quantile(list(best.values()), ABSTAIN))
    # The most permissive bar that still leaves ABSTAIN of nothing-fits queries empty, unless
    # that would lose more than 2% of the real matches.
    bar = min(keep, abstain)
    return {
        "cosine": round(float(model.coef_[0][0]), 4),
        "coverage": round(float(model.coef_[0][1]), 4),
        "intercept": round(float(model.intercept_[0]), 4),
        "bar": round(bar, 4),
        "good": max(GOOD, round(bar, 4)),
        "high": HIGH,
    }


def measure(fitted: dict[str, float], rows: list[tuple]) -> dict[str, float]:
    """Share of positives kept, and share of nothing-fits queries with no candidate kept."""
    w = np.array([fitted["cosine"], fitted["coverage"]])

    def prob(r):
        return 1 / (1 + np.exp(-(w @ np.array(r[:2]) + fitted["intercept"])))

    kept = [prob(r) >= fitted["bar"] for r in rows if r[2] == 1]
    best: dict[int, float] = {}
    for r in rows:
        if r[2] == 0:
            best[r[4]] = max(best.get(r[4], 0.0), prob(r))
    junk = [p < fitted["bar"] for p in best.values()]
    return {
        "positives_kept": round(float(np.mean(kept)), 4) if kept else None,
        "no_match_queries": round(float(np.mean(junk)), 4) if junk else None,
    }


def _halves(rows: list[tuple]) -> tuple[list, list]:
    groups = sorted({r[3] for r in rows})
    first = set(groups[::2])
    return [r for r in rows if r[3] in first], [r for r in rows if r[3] not in first]


def cross_validate(rows: list[tuple]) -> list[dict]:
    a, b = _halves(rows)
    return [
        {"fit": "half A", "test": "half B", **measure(fit(a), b)},
        {"fit": "half B", "test": "half A", **measure(fit(b), a)},
    ]


def run(data: Path, cache: Path, wanted: list[str]) -> dict:
    settings = get_settings().model_copy(update={"models": "zh:e5-small,en:minilm"})
    models = ModelSet(settings)
    zh, en = chinese_tasks(data), english_tasks(data)
    plan = {
        "e5-small": {
            "search": [zh["search-keywords"], zh["search-titles"], en["search-en"]],
            "record": [zh["record-titles"], en["record-en"]],
        },
        "minilm": {"search": [en["search-en"]], "record": [en["record-en"]]},
    }
    out: dict = {"models": {}, "report": {}}
    for model in wanted:
        out["models"][model], out["report"][model] = {}, {}
        for direction, tasks in plan[model].items():
            rows = []
            for task in tasks:
                task.rows = []
                features(task, models, model, cache)
                rows += task.rows
            fitted = fit(rows)
            out["models"][model][direction] = fitted
            out["report"][model][direction] = {
                "rows": len(rows),
                "all": measure(fitted, rows),
                "cross": cross_validate(rows),
            }
            print(model, direction, json.dumps(out["report"][model][direction]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--out", type=Path, default=Path("services/matcher/calibration.json"))
    parser.add_argument("--cache", type=Path, default=Path("var/relevance-fit"))
    parser.add_argument("--models", default="e5-small,minilm")
    args = parser.parse_args()
    result = run(args.data, args.cache, args.models.split(","))
    result["made"] = {
        "by": "python -m bench.relevance_fit --data DATA (see docs/evaluation.md)",
        "date": dt.date.today().isoformat(),
        "keep_recall": KEEP_RECALL,
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
