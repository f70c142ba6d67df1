"""Out-of-domain abstention (the relevance bar), the third set-up of ../shared/data/README.md.

    python -m bench.abstention prepare --data ../shared/data --out var/abstain
    greenplat import achievements var/abstain/achievements.jsonl --data-dir var/abstain/db
    greenplat match --to achievements --queries var/abstain/queries.jsonl --k 10 \
        --out var/abstain/bar.jsonl --data-dir var/abstain/db
    python -m bench.abstention score var/abstain/bar.jsonl --out var/abstain

The library is the science, engineering, medicine and agriculture papers; every paper's
keywords (joined by spaces) are a query, plus gibberish and empty-meaning queries. In-domain
queries should find their own paper (Recall@10); the others should get no match.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from bench.evaldata import csl_keywords, read, write

_OUT_OF_DOMAIN = (
    "中国语言文学 体育学 历史学 哲学 民族学 政治学 法学 新闻传播学 艺术学 教育学 社会学 心理学"
    " 图书馆、情报与档案管理 军事学 公共管理 理论经济学 应用经济学 工商管理 农林经济管理"
)
OUT_OF_DOMAIN = frozenset(_OUT_OF_DOMAIN.split())
FIXED_GIBBERISH = ["asdkjhqwe", "的 了 是", "qwerty zxcv", "嗯 啊 哦 呢", "xkcd lorem ipsum"]
# A block of common CJK characters to draw random "Chinese" from.
CJK_FIRST, CJK_LAST = 0x4E00, 0x9FA5


def in_domain(paper: dict) -> bool:
    """Whether a paper belongs in the technology library."""
    return paper.get("discipline") not in OUT_OF_DOMAIN


def gibberish(count: int, seed: int = 11) -> list[str]:
    """Fixed nonsense plus strings of random Chinese characters (2-12, some spaced)."""
    rng = random.Random(seed)
    out = list(FIXED_GIBBERISH)
    while len(out) < count:
        chars = [chr(rng.randint(CJK_FIRST, CJK_LAST)) for _ in range(rng.randint(2, 12))]
        out.append((" " if rng.random() < 0.3 else "").join(chars))
    return out


def queries(papers: list[dict], *, gibberish_count: int = 50) -> list[dict]:
    """Every paper's keywords as a query, labelled in / out of domain, then gibberish."""
    out = [
        {
            "query_id": paper["id"],
            "query": " ".join(paper.get("keywords") or []) or paper["title"],
            "discipline": paper.get("discipline"),
            "in_domain": in_domain(paper),
        }
        for paper in papers
    ]
    for n, text in enumerate(gibberish(gibberish_count)):
        out.append({"query_id": f"gibberish-{n}", "query": text, "in_domain": False})
    return out


def prepare(data: Path, out: Path, sample: int) -> None:
    papers = list(read(data / "csl-dev-papers.jsonl"))
    library = [csl_keywords(p) for p in papers if in_domain(p)]
    print("achievements", write(out / "achievements.jsonl", library))
    rows = queries(papers)
    print("queries", write(out / "queries.jsonl", rows))
    # Every out-of-domain and gibberish query, and a seeded sample of the in-domain ones: a
    # shorter run when the machine is busy.
    ins = [q for q in rows if q["in_domain"]]
    kept = {q["query_id"] for q in random.Random(7).sample(ins, min(sample, len(ins)))}
    subset = [q for q in rows if not q["in_domain"] or q["query_id"] in kept]
    print("sampled queries", write(out / "queries-sample.jsonl", subset))


def figures(query_rows: list[dict], results: dict[str, list[str]]) -> dict[str, float]:
    """In-domain Recall@10 and the share of out-of-domain / gibberish queries with no match."""
    ins = [q for q in query_rows if q["in_domain"]]
    outs = [q for q in query_rows if not q["in_domain"] and "discipline" in q]
    junk = [q for q in query_rows if "discipline" not in q]
    found = sum(q["query_id"] in results.get(q["query_id"], [])[:10] for q in ins)
    ranks = [_rank(q["query_id"], results.get(q["query_id"], [])) for q in ins]
    return {
        "in_domain_queries": len(ins),
        "in_domain_recall_at_10": found / max(len(ins), 1),
        "in_domain_mrr_at_10": sum(1 / r for r in ranks if r) / max(len(ins), 1),
        "out_of_domain_queries": len(outs),
        "out_of_domain_no_match": sum(not results.get(q["query_id"]) for q in outs)
        / max(len(outs), 1),
        "gibberish_queries": len(junk),
        "gibberish_no_match": sum(not results.get(q["query_id"]) for q in junk) / max(len(junk), 1),
    }


def _rank(wanted: str, ranked: list[str]) -> int | None:
    return ranked[:10].index(wanted) + 1 if wanted in ranked[:10] else None


def score(out: Path, matches: Path) -> dict[str, float]:
    results = {r["query_id"]: [m["id"] for m in r["matches"]] for r in read(matches)}
    rows = [q for q in read(out / "queries.jsonl") if q["query_id"] in results]
    return figures(rows, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["prepare", "score"])
    parser.add_argument("matches", nargs="?", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("var/abstain"))
    parser.add_argument("--sample", type=int, default=200, help="in-domain queries sampled")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.data, args.out, args.sample)
    else:
        print(json.dumps(score(args.out, args.matches), indent=2))


if __name__ == "__main__":
    main()
