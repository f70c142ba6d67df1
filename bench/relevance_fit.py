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
NEGATIVE_PAIRS = {"rated-low"}


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
    ood = [
        Query(_join(p["title"], p["keywords"], p["abstract"]), None, p["discipline"])
        for p in papers
        if p["discipline"] in OUT_OF_DOMAIN
    ]
    return {
        "record-papers": Task(full, ood, "passage"),
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
        kind = "own" if query.own is not None else "nothing-fits"
        for i in picked:
            if query.own is None or i == query.own:
                row_of = (float(row[i]), float(cover[i]), int(i == query.own), query.group)
                task.rows.append((*row_of, f"{task.kind}-{id(task)}-{n}", kind))
        if query.own is not None and query.own not in picked:
            i = query.own
            row_of = (float(row[i]), float(cover[i]), 1, query.group)
            task.rows.append((*row_of, f"{task.kind}-{id(task)}-{n}", kind))


def _cover(terms: Terms, have: set[str]) -> float:
    if not terms.total:
        return 0.0
    return sum(w for t, w in terms.weights.items() if t in have) / terms.total


def neighbour_rows(data: Path, models: ModelSet, model: str, cache: Path) -> list[tuple]:
    """A technology paper (as a problem) and the closest other paper of its discipline (as
    the work of an expert in a neighbouring topic): expert-like positives, less alike than a
    title and its own paper."""
    lib = [p for p in read(data / "csl-dev-papers.jsonl") if p["discipline"] not in OUT_OF_DOMAIN]
    full = [_join(p["title"], p["keywords"], p["abstract"]) for p in lib]
    vectors = encode(models, model, full, "passage", cache)
    terms = [set(key_terms(t)) for t in full]
    sims = vectors @ vectors.T
    rows = []
    for i, paper in enumerate(lib):
        peers = [j for j, q in enumerate(lib) if j != i and q["discipline"] == paper["discipline"]]
        if not peers:
            continue
        j = max(peers, key=lambda k: sims[i, k])
        cover = _cover(Terms(full[i]), terms[j])
        rows.append((float(sims[i, j]), cover, 1, paper["discipline"], f"nb-{i}", "neighbour"))
    return rows


def rated_rows(data: Path, models: ModelSet, model: str, cache: Path) -> list[tuple]:
    """An expert's closest work against a problem they rated: 4-5 a positive, 1-2 a negative
    (the middle is left out), as judging.py judges the record direction."""
    rows = []
    for folder in sorted(data.glob("expertise-dev-d_20_*")):
        problems = {r["external_id"]: r for r in read(folder / "problems.jsonl")}
        works = list(read(folder / "achievements.jsonl"))
        texts = [_join(w["title"], w.get("abstract")) for w in works]
        wv = encode(models, model, texts, "passage", cache)
        pids = sorted(problems)
        ptexts = [_join(problems[p]["title"], problems[p]["description"]) for p in pids]
        pv = dict(zip(pids, encode(models, model, ptexts, "passage", cache), strict=True))
        mine: dict[str, list[int]] = {}
        for n, work in enumerate(works):
            for expert in work["expert_ids"]:
                mine.setdefault(expert, []).append(n)
        for r in read(folder / "ratings.jsonl"):
            own = mine.get(r["expert_id"])
            if not own or r["problem_id"] not in pv or 2 < r["expertise"] < 4:
                continue
            sims = wv[own] @ pv[r["problem_id"]]
            best = own[int(np.argmax(sims))]
            cover = _cover(Terms(ptexts[pids.index(r["problem_id"])]), set(key_terms(texts[best])))
            label = int(r["expertise"] >= 4)
            kind = "rated" if label else "rated-low"
            qid = f"{folder.name}-{r['expert_id']}-{r['problem_id']}"
            rows.append((float(sims.max()), cover, label, f"en-{folder.name}", qid, kind))
    return rows


def fit(rows: list[tuple]) -> dict[str, float]:
    x = np.array([[r[0], r[1]] for r in rows])
    y = np.array([r[2] for r in rows])
    model = LogisticRegression(C=10.0, class_weight="balanced").fit(x, y)
    p = model.predict_proba(x)[:, 1]
    keep = float(np.quantile(p[y == 1], 1 - KEEP_RECALL))
    best = _best_per_query(rows, p)
    abstain = float(np.quantile(list(best.values()), ABSTAIN)) if best else keep
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


def _best_per_query(rows: list[tuple], probs) -> dict[str, float]:
    """Each nothing-fits query's best candidate probability (it gets a match if >= the bar)."""
    best: dict[str, float] = {}
    for row, prob in zip(rows, probs, strict=True):
        if row[5] == "nothing-fits":
            best[row[4]] = max(best.get(row[4], 0.0), float(prob))
    return best


def measure(fitted: dict[str, float], rows: list[tuple]) -> dict[str, float | None]:
    """Share of positives kept (per kind of positive), of nothing-fits queries with no
    candidate kept, and of unrelated pairs refused."""
    x = np.array([[r[0], r[1]] for r in rows])
    z = x @ np.array([fitted["cosine"], fitted["coverage"]]) + fitted["intercept"]
    probs = 1 / (1 + np.exp(-z))
    passed = probs >= fitted["bar"]
    out: dict[str, float | None] = {}
    for kind in sorted({r[5] for r in rows} - {"nothing-fits"}):
        mine = [ok for r, ok in zip(rows, passed, strict=True) if r[5] == kind]
        label = "refused" if kind in NEGATIVE_PAIRS else "kept"
        share = float(np.mean(mine)) if mine else None
        if share is not None and label == "refused":
            share = 1 - share
        out[f"{kind}_{label}"] = round(share, 4) if share is not None else None
    kept = [ok for r, ok in zip(rows, passed, strict=True) if r[2] == 1]
    out["positives_kept"] = round(float(np.mean(kept)), 4) if kept else None
    junk = [p < fitted["bar"] for p in _best_per_query(rows, probs).values()]
    out["no_match_queries"] = round(float(np.mean(junk)), 4) if junk else None
    return out


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


def run(data: Path, cache: Path, wanted: list[str], directions: list[str]) -> dict:
    settings = get_settings().model_copy(update={"models": "zh:e5-small,en:minilm"})
    models = ModelSet(settings)
    zh, en = chinese_tasks(data), english_tasks(data)
    plan = {
        "e5-small": {
            "search": ([zh["search-keywords"], zh["search-titles"], en["search-en"]], []),
            "record": (
                [zh["record-titles"], zh["record-papers"], en["record-en"]],
                [neighbour_rows, rated_rows],
            ),
        },
        "minilm": {"search": ([en["search-en"]], []), "record": ([en["record-en"]], [rated_rows])},
    }
    out: dict = {"models": {}, "report": {}}
    for model in wanted:
        out["models"][model], out["report"][model] = {}, {}
        for direction in directions:
            tasks, pairs = plan[model][direction]
            rows = []
            for task in tasks:
                task.rows = []
                features(task, models, model, cache)
                rows += task.rows
            for pair_rows in pairs:
                rows += pair_rows(data, models, model, cache)
            fitted = fit(rows)
            out["models"][model][direction] = fitted
            out["report"][model][direction] = {
                "rows": len(rows),
                "all": measure(fitted, rows),
                "cross": cross_validate(rows),
            }
            print(model, direction, json.dumps(out["report"][model][direction]))
    return out


def merge(path: Path, result: dict) -> dict:
    """The calibration file with the refitted (model, direction) entries replaced."""
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for part in ("models", "report"):
        for model, directions in result[part].items():
            old.setdefault(part, {}).setdefault(model, {}).update(directions)
    return old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--out", type=Path, default=Path("services/matcher/calibration.json"))
    parser.add_argument("--cache", type=Path, default=Path("var/relevance-fit"))
    parser.add_argument("--models", default="e5-small,minilm")
    parser.add_argument("--directions", default="search,record")
    args = parser.parse_args()
    result = run(args.data, args.cache, args.models.split(","), args.directions.split(","))
    result = merge(args.out, result)
    result["made"] = {
        "by": "python -m bench.relevance_fit --data DATA (see docs/evaluation.md)",
        "date": dt.date.today().isoformat(),
        "keep_recall": KEEP_RECALL,
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
