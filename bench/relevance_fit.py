"""Refit the relevance bar (services/matcher/calibration.json) from the shared dev data.

    python -m bench.relevance_fit --data ../shared/data --directions record

Per model and direction, a logistic turns (cosine, IDF-weighted term coverage) into the
probability that a candidate is a real match; only the asked directions are refitted, the
others are kept from the file. The bar is the probability that leaves ABSTAIN of the
nothing-fits queries with no match; the report tells how many positives of each kind it
keeps. Cross-validation: fit on half the disciplines, measure on the other half, and back.

"search" embeds the source as a query (keywords, titles). Positives: a query and its own
paper. Nothing fits: the ten best candidates (by cosine and by coverage) of CSL papers of the
humanities, social-science and economics disciplines against the technology papers, English
out-of-domain queries (bench/data) against the English expertise papers, and gibberish.

"record" embeds both sides as passages, as a problem against an expert's works. Positives: a
title and its own paper; a technology paper and the closest paper of its discipline sharing a
keyword (an expert on a neighbouring topic); for MiniLM, an expert's closest paper and a
problem they rated 4-5. Nothing fits: out-of-domain papers (whole texts) against the
technology papers, a technology paper and the closest paper of another discipline sharing no
keyword (a machining expert for a battery problem); MiniLM's English rated 1-2 pairs are
fitted as negatives and reported.
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
# Share of nothing-fits queries left empty. The record direction's nothing-fits side holds
# the closest paper of another discipline, and CSL disciplines overlap (材料 and 化学, 电气
# and 控制): some of those pairs are real neighbours, so its bar leaves 85% of them empty.
ABSTAIN = {"search": 0.9, "record": 0.85}
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


def english_library(data: Path) -> tuple[dict, dict, list[str]]:
    """The expertise sets' papers and problems, and the library of both (papers first)."""
    problems, works = {}, {}
    for folder in sorted(data.glob("expertise-dev-d_20_*")):
        problems.update({r["external_id"]: r for r in read(folder / "problems.jsonl")})
        works.update({r["external_id"]: r for r in read(folder / "achievements.jsonl")})
    library = [_join(w["title"], w.get("abstract")) for w in works.values()]
    library += [p["description"] for p in problems.values()]
    return works, problems, library


def english_tasks(data: Path) -> dict[str, Task]:
    works, problems, library = english_library(data)
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
    """Technology papers as problems against other papers as an expert's works.

    Positive: the closest other paper of the same discipline that shares a keyword (an
    expert on a neighbouring topic: less alike than a title and its own paper). Nothing
    fits: the closest paper of another discipline sharing no keyword (a machining expert
    for a battery problem), one nothing-fits query per paper.
    """
    lib = [p for p in read(data / "csl-dev-papers.jsonl") if p["discipline"] not in OUT_OF_DOMAIN]
    full = [_join(p["title"], p["keywords"], p["abstract"]) for p in lib]
    vectors = encode(models, model, full, "passage", cache)
    terms = [set(key_terms(t)) for t in full]
    words = [set(p["keywords"]) for p in lib]
    sims = vectors @ vectors.T
    rows = []
    for i, paper in enumerate(lib):
        same = [j for j, q in enumerate(lib) if j != i and q["discipline"] == paper["discipline"]]
        other = [j for j, q in enumerate(lib) if q["discipline"] != paper["discipline"]]
        near = [j for j in same if words[i] & words[j]]
        unrelated = [j for j in other if not words[i] & words[j]]
        group, source = paper["discipline"], Terms(full[i])
        for picks, label, kind in ((near, 1, "neighbour"), (unrelated, 0, "nothing-fits")):
            if picks:
                j = max(picks, key=lambda k: sims[i, k])
                cover = _cover(source, terms[j])
                rows.append((float(sims[i, j]), cover, label, group, f"{kind}-{i}", kind))
    return rows


def rated_rows(data: Path, models: ModelSet, model: str, cache: Path) -> list[tuple]:
    """An expert's closest work against a problem they rated: 4-5 a positive, 1-2 a negative
    (the middle is left out), as judging.py judges the record direction."""
    works, problems, library = english_library(data)
    vectors = encode(models, model, library, "passage", cache)
    row_of = {key: n for n, key in enumerate([*works, *problems])}
    mine: dict[str, list[int]] = {}
    for key, work in works.items():
        for expert in work["expert_ids"]:
            mine.setdefault(expert, []).append(row_of[key])
    rows = []
    for folder in sorted(data.glob("expertise-dev-d_20_*")):
        for r in read(folder / "ratings.jsonl"):
            own, problem = mine.get(r["expert_id"]), row_of.get(r["problem_id"])
            if not own or problem is None or 2 < r["expertise"] < 4:
                continue
            sims = vectors[own] @ vectors[problem]
            best = own[int(np.argmax(sims))]
            cover = _cover(Terms(library[problem]), set(key_terms(library[best])))
            label = int(r["expertise"] >= 4)
            qid = f"{folder.name}-{r['expert_id']}-{r['problem_id']}"
            kind = "rated" if label else "rated-low"
            rows.append((float(sims.max()), cover, label, f"en-{folder.name}", qid, kind))
    return rows


def fit(rows: list[tuple], direction: str) -> dict[str, float]:
    x = np.array([[r[0], r[1]] for r in rows])
    y = np.array([r[2] for r in rows])
    model = LogisticRegression(C=10.0, class_weight="balanced").fit(x, y)
    p = model.predict_proba(x)[:, 1]
    # The most permissive bar that still leaves ABSTAIN of the nothing-fits queries empty;
    # measure() tells how many real matches it keeps.
    bar = float(np.quantile(list(_best_per_query(rows, p).values()), ABSTAIN[direction]))
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


def cross_validate(rows: list[tuple], direction: str) -> list[dict]:
    a, b = _halves(rows)
    return [
        {"fit": "half A", "test": "half B", **measure(fit(a, direction), b)},
        {"fit": "half B", "test": "half A", **measure(fit(b, direction), a)},
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
                [neighbour_rows],
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
            fitted = fit(rows, direction)
            out["models"][model][direction] = fitted
            out["report"][model][direction] = {
                "rows": len(rows),
                "all": measure(fitted, rows),
                "cross": cross_validate(rows, direction),
            }
            print(model, direction, json.dumps(out["report"][model][direction]))
    return out


def language_gap(model: str) -> dict[str, float]:
    """How much lower cosines are across English and Chinese than within one language.

    Measured on the demo's problems and achievements (the platform's own bilingual records,
    not evaluation data), over pairs of different records: mean cosine of same-language pairs
    minus mean cosine of cross-language pairs, for a title embedded as a query against the
    stored passages ("search") and for two stored passages ("record"). judging.py adds it to
    a cross-language pair's cosine, so the bar fitted within one language applies to it.
    """
    from greenplat.core.demo.loader import default_data_dir
    from greenplat.indexer.analysis import languages
    from greenplat.matcher.retrieval import achievement_text, problem_text

    folder = default_data_dir()
    rows = [(r["title"], problem_text(r)) for r in read(folder / "problems.jsonl")]
    rows += [(r["title"], achievement_text(r)) for r in read(folder / "achievements.jsonl")]
    english = np.array([languages(text) == {"en"} for _, text in rows])
    models = ModelSet(get_settings().model_copy(update={"models": "zh:e5-small,en:minilm"}))
    passages = models.raw_encode([text for _, text in rows], model=model, kind="passage")
    gaps = {}
    titles = models.raw_encode([title for title, _ in rows], model=model, kind="query")
    for direction, sources in (("search", titles), ("record", passages)):
        cos = sources @ passages.T
        other = ~np.eye(len(rows), dtype=bool)
        cross = english[:, None] != english[None, :]
        same_mean = float(cos[other & ~cross].mean())
        gaps[direction] = round(same_mean - float(cos[cross].mean()), 4)
    return gaps


def merge(path: Path, result: dict) -> dict:
    """The calibration file with the refitted (model, direction) entries replaced."""
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for part in ("models", "report"):
        for model, directions in result[part].items():
            old.setdefault(part, {}).setdefault(model, {}).update(directions)
    return old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("services/matcher/calibration.json"))
    parser.add_argument("--cache", type=Path, default=Path("var/relevance-fit"))
    parser.add_argument("--models", default="e5-small,minilm")
    parser.add_argument("--directions", default="search,record")
    parser.add_argument(
        "--language-gap",
        action="store_true",
        help="only measure e5-small's cross-language cosine gap on the demo records",
    )
    args = parser.parse_args()
    if args.language_gap:
        old = json.loads(args.out.read_text(encoding="utf-8"))
        old["language_gap"] = {"e5-small": language_gap("e5-small")}
        print(json.dumps(old["language_gap"]))
        args.out.write_text(json.dumps(old, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return
    result = run(args.data, args.cache, args.models.split(","), args.directions.split(","))
    result = merge(args.out, result)
    result["made"] = {
        "by": "python -m bench.relevance_fit --data DATA --directions ... (docs/evaluation.md)",
        "date": dt.date.today().isoformat(),
        "abstain": ABSTAIN,
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
