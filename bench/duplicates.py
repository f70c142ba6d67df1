"""Precision and recall of the near-duplicate detector on a labelled set built at run time.

    python -m bench.duplicates --data ../shared/data/csl-dev-papers.jsonl

The set: CSL dev papers (title + abstract) grouped into organizations of 25 papers of one
discipline (so every negative pair is two papers on neighbouring topics). Hard negatives as
an organization's real postings have them: half of each organization's records start with
the same company boilerplate, and a fifth carry one generic title ("生产工艺优化需求").
For 400 records a copy is made programmatically in the same organization: truncated,
paraphrased (sentences dropped or swapped, words replaced, punctuation and spacing
changed), reformatted, or retitled and truncated. A pair is labelled duplicate when one is
a copy of the other.
Every pair within an organization is scored; the baseline in the same run is the exact key
(texts equal up to spacing, punctuation and case).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import time
from collections import defaultdict
from pathlib import Path

from greenplat.core.duplicates import fingerprint as fp
from greenplat.core.duplicates.service import THRESHOLD

DETECTOR = "detector: MinHash LSH (42x3)"
ORG_SIZE = 25
COPIES = 400
SYNONYMS = {
    "研究": "探讨", "提出": "给出", "方法": "方案", "结果表明": "实验显示", "基于": "依托",
    "采用": "利用", "分析": "剖析", "提高": "提升", "系统": "体系", "通过": "借助",
    "进行": "开展", "问题": "难题", "有效": "切实", "显著": "明显", "应用": "运用",
}  # fmt: skip
BOILERPLATE = (
    "{org}成立于2003年，是国家高新技术企业，拥有省级工程技术研究中心和博士后工作站，"
    "现有员工1200余人，年产值约15亿元，产品销往全国并出口东南亚。"
)
GENERIC_TITLE = "生产工艺优化需求"
_SENTENCE = re.compile(r"(?<=[。；;.!?！？])")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def truncate(title: str, body: str, rnd: random.Random) -> tuple[str, str]:
    return title, body[: int(len(body) * rnd.uniform(0.55, 0.8))]


def paraphrase(title: str, body: str, rnd: random.Random) -> tuple[str, str]:
    parts = sentences(body)
    if len(parts) > 3:
        parts.pop(rnd.randrange(1, len(parts)))
    if len(parts) > 2:
        i = rnd.randrange(len(parts) - 1)
        parts[i], parts[i + 1] = parts[i + 1], parts[i]
    text = "".join(parts)
    for word, other in SYNONYMS.items():
        if rnd.random() < 0.7:
            text = text.replace(word, other)
    return title.replace("研究", "探讨"), text


def reformat(title: str, body: str, rnd: random.Random) -> tuple[str, str]:
    spaced = body.replace("，", ", ").replace("。", ". ").replace(",", "，")
    return f" {title}（修订）", spaced


def retitle(title: str, body: str, rnd: random.Random) -> tuple[str, str]:
    _, cut = truncate(title, body, rnd)
    return f"关于{title}的需求", cut


MAKERS = (truncate, paraphrase, reformat, retitle)


def build(path: Path, seed: int = 7) -> tuple[list[dict], set[tuple[int, int]]]:
    """Records (id, org, title, body, kind) and the labelled duplicate pairs (by index)."""
    rnd = random.Random(seed)
    papers = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    by_discipline = defaultdict(list)
    for p in papers:
        by_discipline[p["discipline"]].append(p)
    records = []
    for discipline, group in sorted(by_discipline.items()):
        for i, p in enumerate(group):
            org = f"{discipline}-{i // ORG_SIZE}"
            body = p["abstract"]
            if rnd.random() < 0.5:
                body = BOILERPLATE.format(org=org) + body
            title = GENERIC_TITLE if rnd.random() < 0.2 else p["title"]
            records.append({"org": org, "title": title, "body": body, "kind": "paper"})
    pairs = set()
    for original in rnd.sample(range(len(records)), COPIES):
        make = MAKERS[len(pairs) % len(MAKERS)]
        src = records[original]
        title, body = make(src["title"], src["body"], rnd)
        records.append({"org": src["org"], "title": title, "body": body, "kind": make.__name__})
        pairs.add((original, len(records) - 1))
    return records, pairs


def score_pairs(records: list[dict]) -> dict[str, dict[tuple[int, int], float]]:
    """Every same-organization pair scored by each method."""
    texts = [f"{r['title']}。{r['body']}" for r in records]
    sets = [fp.shingles(t) for t in texts]
    keys = [fp.exact_key(r["title"], r["body"]) for r in records]
    signatures = [fp.minhash(s) for s in sets]
    band_sets = [set(fp.bands(sig)) for sig in signatures]
    by_org = defaultdict(list)
    for i, r in enumerate(records):
        by_org[r["org"]].append(i)
    scores: dict[str, dict[tuple[int, int], float]] = defaultdict(dict)
    for members in by_org.values():
        for a, b in itertools.combinations(members, 2):
            scores["exact key (baseline)"][(a, b)] = float(keys[a] == keys[b])
            scores["Jaccard, jieba 2-shingles"][(a, b)] = fp.jaccard(sets[a], sets[b])
            small = min(len(sets[a]), len(sets[b])) or 1
            scores["containment, jieba 2-shingles"][(a, b)] = len(sets[a] & sets[b]) / small
            jaccard = fp.minhash_jaccard(signatures[a], signatures[b])
            scores["MinHash Jaccard, jieba 2-shingles"][(a, b)] = jaccard
            # What the platform runs: LSH candidates (a shared band or the exact key), then
            # the MinHash estimate.
            candidate = keys[a] == keys[b] or bool(band_sets[a] & band_sets[b])
            exact = 1.0 if keys[a] == keys[b] else jaccard
            scores[DETECTOR][(a, b)] = exact if candidate else 0.0
    return scores


def precision_recall(scores, truth, threshold):
    found = {pair for pair, s in scores.items() if s >= threshold}
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    return precision, tp / len(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/csl-dev-papers.jsonl"))
    args = parser.parse_args()
    started = time.perf_counter()
    records, truth = build(args.data)
    scores = score_pairs(records)
    n_pairs = len(next(iter(scores.values())))
    print(f"records {len(records)}, same-organization pairs {n_pairs}, duplicates {len(truth)}")
    print(f"scored in {time.perf_counter() - started:.1f} s")
    for method, table in scores.items():
        for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0):
            p, r = precision_recall(table, truth, threshold)
            mark = "  <- detector" if method == DETECTOR and threshold == THRESHOLD else ""
            print(f"{method:34s} >= {threshold:.2f}: precision {p:.3f} recall {r:.3f}{mark}")
    detector = scores[DETECTOR]
    _, base_recall = precision_recall(scores["exact key (baseline)"], truth, 1.0)
    p, r = precision_recall(detector, truth, THRESHOLD)
    print(f"detector (MinHash >= {THRESHOLD}): precision {p:.3f} recall {r:.3f}")
    print(f"detector recall / exact-key recall: {r / base_recall:.1f}x")
    for kind in (m.__name__ for m in MAKERS):
        subset = {(a, b) for a, b in truth if records[b]["kind"] == kind}
        hit = sum(1 for pair in subset if detector.get(pair, 0) >= THRESHOLD)
        print(f"  recall on {kind:10s} copies: {hit / len(subset):.3f} ({hit}/{len(subset)})")


if __name__ == "__main__":
    main()
