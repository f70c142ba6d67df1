"""Every demo problem against every demo achievement, judged in both directions of the bar.

    greenplat demo load --data-dir var/demo
    python -m bench.demo_pairs --data-dir var/demo

Prints how many of the intended pairs (services/core/demo/data/intended_matches.jsonl) and
of the other pairs pass the "search" bar (the problem's text embedded as a query) and the
"record" bar (both stored passages), then the intended pairs the record bar misses and the
other pairs it lets in. The bar only; the same-organization rule is not applied here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from greenplat.core.db import open_database
from greenplat.core.demo import loader
from greenplat.core.settings import Settings
from greenplat.indexer.service import Indexer
from greenplat.matcher import relevance, retrieval


def intended() -> set[tuple[str, str]]:
    """(problem, achievement) external ids the demo was written to match."""
    rows = loader.read_jsonl(loader.default_data_dir() / "intended_matches.jsonl")
    return {(r["problem_id"], a) for _, r in rows for a in r["achievement_ids"]}


def judge_all(data_dir: Path) -> list[dict]:
    """Each pair's verdicts under the primary model, as judging.judge_hits judges them."""
    settings = Settings(data_dir=data_dir)
    db = open_database(settings, upgrade=False)
    indexer = Indexer(settings, db)
    model, out = indexer.models[0], []
    try:
        with db.session() as conn:
            problems = conn.execute("SELECT * FROM problems ORDER BY external_id").fetchall()
            works = conn.execute("SELECT * FROM achievements ORDER BY external_id").fetchall()
            stored_p = indexer.get_vectors(
                "problems", [p["id"] for p in problems], conn=conn, model=model
            )
            stored_a = indexer.get_vectors(
                "achievements", [a["id"] for a in works], conn=conn, model=model
            )
            for p in problems:
                text = retrieval.problem_text(p)
                query = indexer.query_vector(text, model=model)
                terms = {
                    "search": relevance.Terms(text, parts=True),
                    "record": relevance.Terms(text),
                }
                for a in works:
                    candidate = retrieval.achievement_text(a)
                    crosses = relevance.crosses(text, [candidate])
                    row = {"problem": p["external_id"], "achievement": a["external_id"]}
                    for direction, source in (("search", query), ("record", stored_p[p["id"]])):
                        cosine = float(stored_a[a["id"]] @ source)
                        if crosses:
                            cosine += relevance.language_gap(model, direction)  # type: ignore[arg-type]
                        coverage = terms[direction].coverage([candidate])
                        verdict = relevance.judge(model, direction, cosine, coverage)  # type: ignore[arg-type]
                        row[direction] = verdict.probability if verdict.passes else None
                    row["title"] = a["title"]
                    out.append(row)
    finally:
        indexer.close()
        db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a data dir holding the demo")
    args = parser.parse_args()
    wanted, rows = intended(), judge_all(args.data_dir)
    for direction in ("search", "record"):
        mine = [r for r in rows if (r["problem"], r["achievement"]) in wanted]
        rest = [r for r in rows if (r["problem"], r["achievement"]) not in wanted]
        kept = sum(r[direction] is not None for r in mine)
        let_in = sum(r[direction] is not None for r in rest)
        print(f"{direction}: intended {kept}/{len(mine)}, other pairs {let_in}/{len(rest)}")
    for r in rows:
        key = (r["problem"], r["achievement"])
        if (key in wanted) == (r["record"] is None):
            kind = "missed" if key in wanted else "let in"
            print(json.dumps({"record": kind, **r}, ensure_ascii=False))


if __name__ == "__main__":
    main()
