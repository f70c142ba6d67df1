"""Cross-language matching: English queries finding Chinese records, and back.

    python -m bench.crosslang --data ../shared/data [--work var/crosslang]

The bilingual check (bench/data, written for this bench; the Chinese side is read from the
shared data at run time, never copied):
- crosslang_csl_en.jsonl: English titles and keywords of 62 CSL dev papers, every 12th
  paper of the technology library (the disciplines bench.abstention keeps), in file order.
  EN -> ZH: the English title searches the 1,000 Chinese papers (title, abstract, keywords).
  ZH -> EN: the Chinese title searches an English library of those 62 papers (English title
  and keywords) among 196 English distractors (the problems of expertise-dev-d_20_1).
- crosslang_demo.jsonl: English titles of the demo's Chinese problems and Chinese titles of
  its English problems and achievements, searched against the demo data (every status).

Every query runs through the product path (Indexer.search, then the matcher's judging
against the relevance bar: greenplat.matcher.search.retrieve) twice in the same run: the
baseline (cross_language=False, today's fusion) and the cross-language search. Printed per
set and direction: MRR@10, Recall@1 and Recall@10 of the ranking (bar lifted), the same
ranking with the bar on (records below it removed), and the share of queries whose own
record passes the bar. The libraries are imported once into --work (delete it to redo).

`--experts`: English needs against the demo's experts (see experts()), baseline and
cross-language; `--abstention`: the bar's abstention on out-of-domain and gibberish queries.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.abstention import in_domain
from bench.evaldata import csl_keywords, read, write
from greenplat.core.db import open_database
from greenplat.core.demo.loader import default_data_dir, read_jsonl
from greenplat.core.permissions import SYSTEM
from greenplat.core.settings import Settings
from greenplat.indexer.service import Indexer
from greenplat.matcher.directions import problem_experts
from greenplat.matcher.evaluation import ranking_report
from greenplat.matcher.search import retrieve, search

HERE = Path(__file__).with_name("data")
CSL_EN = HERE / "crosslang_csl_en.jsonl"
DEMO = HERE / "crosslang_demo.jsonl"
G = ".venv/bin/greenplat"
DEPTH = 50
ALL_STATUSES = ("draft", "submitted", "returned", "approved", "matched", "closed")


@dataclass(frozen=True)
class Query:
    text: str
    own: str  # external id of the record it should find
    library: str = "achievements"


def english_library(data: Path) -> list[dict]:
    """The 62 papers in English (title, keywords as the abstract) and the English distractors."""
    papers = {p["id"]: p for p in read(data / "csl-dev-papers.jsonl")}
    rows = [
        {
            "external_id": r["id"],
            "title": r["title"],
            # An abstract is required: the English keywords stand in for it.
            "abstract": "; ".join(r["keywords"]),
            "discipline": papers[r["id"]]["discipline"],
            "kind": "paper",
        }
        for r in read(CSL_EN)
    ]
    for p in read(data / "expertise-dev-d_20_1" / "problems.jsonl"):
        rows.append(
            {
                "external_id": p["external_id"],
                "title": p["title"],
                "abstract": p.get("description") or "",
                "kind": "paper",
            }
        )
    return rows


def chosen(data: Path) -> list[str]:
    """The fixed rule: every 12th paper of the technology library, in file order."""
    tech = [p["id"] for p in read(data / "csl-dev-papers.jsonl") if in_domain(p)]
    return tech[::12]


def prepare(data: Path, work: Path) -> dict[str, Path]:
    """Import each library into its own data dir once; return the data dirs."""
    papers = list(read(data / "csl-dev-papers.jsonl"))
    dirs = {"zh": work / "db-zh", "en": work / "db-en", "demo": work / "db-demo"}
    files = {"zh": [csl_keywords(p) for p in papers], "en": english_library(data)}
    for name, rows in files.items():
        if not (work / f"{name}.imported").exists():
            path = work / name / "achievements.jsonl"
            write(path, rows)
            subprocess.run([G, "import", "achievements", str(path), "--data-dir", str(dirs[name])])
            (work / f"{name}.imported").touch()
    if not (work / "demo.imported").exists():
        subprocess.run([G, "demo", "load", "--data-dir", str(dirs["demo"])], check=True)
        (work / "demo.imported").touch()
    return dirs


def query_sets(data: Path) -> dict[str, list[Query]]:
    papers = {p["id"]: p for p in read(data / "csl-dev-papers.jsonl")}
    english = list(read(CSL_EN))
    if [r["id"] for r in english] != chosen(data):
        raise SystemExit(f"{CSL_EN} does not hold the papers of the fixed rule")
    demo = list(read(DEMO))
    return {
        "csl EN->ZH": [Query(r["title"], r["id"]) for r in english],
        "csl ZH->EN": [Query(papers[r["id"]]["title"], r["id"]) for r in english],
        "demo EN->ZH": [
            Query(r["query"], r["id"], r["library"]) for r in demo if not _has_cjk(r["query"])
        ],
        "demo ZH->EN": [
            Query(r["query"], r["id"], r["library"]) for r in demo if _has_cjk(r["query"])
        ],
    }


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def measure(indexer: Indexer, queries: list[Query]) -> dict[str, float]:
    """Ranking figures with the bar lifted and on, and the share of own records passing."""
    ranked: dict[str, list[str]] = {}
    passing: dict[str, list[str]] = {}
    own_passes = 0
    with indexer.db.session() as conn:
        for n, q in enumerate(queries):
            found = retrieve(
                indexer,
                q.library,
                q.text,
                conn=conn,
                principal=SYSTEM,
                k=DEPTH,
                filters={"status": ALL_STATUSES},
                bar=False,
            )
            ids = [row["external_id"] for _, _, row in found]
            ranked[str(n)] = ids
            passing[str(n)] = [row["external_id"] for _, c, row in found if c.level is not None]
            own_passes += q.own in passing[str(n)]
    qrels = {str(n): [q.own] for n, q in enumerate(queries)}
    lifted, bar = ranking_report(ranked, qrels), ranking_report(passing, qrels)
    return {
        "MRR@10": lifted.mrr_at_10,
        "R@1": lifted.recall_at_1,
        "R@10": lifted.recall_at_10,
        "bar MRR@10": bar.mrr_at_10,
        "bar R@10": bar.recall_at_10,
        "own passes": own_passes / len(queries),
    }


def abstention(data: Path, work: Path) -> None:
    """Out-of-domain and gibberish queries with no match shown, baseline and cross-language.

    bench.abstention's queries against the 1,000 papers already imported here, with the
    search limited (a discipline filter) to the technology library that bench.abstention
    imports: the same candidates without a second import of 737 papers.
    """
    from bench.abstention import gibberish, queries

    papers = list(read(data / "csl-dev-papers.jsonl"))
    tech = sorted({p["discipline"] for p in papers if in_domain(p)})
    texts = [q["query"] for q in queries(papers) if q.get("discipline") and not q["in_domain"]]
    sets = {"out-of-domain": texts, "gibberish": gibberish(50)}
    settings = Settings(data_dir=prepare(data, work)["zh"].resolve())
    db = open_database(settings)
    try:
        for label, cross in (("baseline", False), ("cross-language", True)):
            indexer = Indexer(settings, db, cross_language=cross)
            try:
                with db.session() as conn:
                    for name, group in sets.items():
                        empty = sum(
                            not retrieve(
                                indexer,
                                "achievements",
                                text,
                                conn=conn,
                                principal=SYSTEM,
                                k=10,
                                filters={"discipline": tech},
                            )
                            for text in group
                        )
                        print(f"{label}: {name} queries with no match {empty}/{len(group)}")
            finally:
                indexer.close()
    finally:
        db.close()


def _experts_shown(indexer: Indexer, conn, text: str, bar: bool, size: int) -> list[str]:
    """External ids of the experts the free-text search shows, best first."""
    page = search(indexer, text, "experts", conn=conn, principal=SYSTEM, page_size=size, bar=bar)
    return [item.external_id for item in page.items]


def english_records(indexer: Indexer, db, needs: list[dict]) -> dict[str, int]:
    """Each need as an English problem record (EN-<id>: the English title as title and
    description, the Chinese problem's organization, region and industry), added once and
    indexed; returns the record ids by the Chinese problem's external id."""
    columns = "keywords, industry, region, organization, organization_id, owner_id, status"
    with db.session() as conn:
        for need in needs:
            conn.execute(
                f"INSERT INTO problems (external_id, title, description, {columns})"  # noqa: S608
                f" SELECT %s, %s, %s, {columns} FROM problems WHERE external_id = %s"
                " AND NOT EXISTS (SELECT 1 FROM problems WHERE external_id = %s)",
                (f"EN-{need['id']}", need["query"], need["query"], need["id"], f"EN-{need['id']}"),
            )
    indexer.sync_pending()
    with db.session() as conn:
        rows = conn.execute("SELECT id, external_id FROM problems WHERE external_id LIKE 'EN-%'")
        return {r["external_id"][3:]: r["id"] for r in rows.fetchall()}


def _record_experts(indexer: Indexer, conn, problem_id: int, bar: bool, size: int) -> list[str]:
    """External ids of the experts a problem record is recommended, best first."""
    page = problem_experts(
        indexer,
        problem_id,
        conn=conn,
        principal=SYSTEM,
        page_size=size,
        bar=bar,
        statuses=ALL_STATUSES,
    )
    return [item.external_id for item in page.items]


def _shown(
    indexer: Indexer,
    conn,
    need: dict,
    bar: bool,
    size: int,
    *,
    source: str,
    records: dict[str, int],
    titles: dict[str, str],
) -> list[str]:
    """The experts shown for a need: as English text, as an English problem record, or by
    its Chinese problem's own title (source "text", "record", "own")."""
    if source == "record":
        return _record_experts(indexer, conn, records[need["id"]], bar, size)
    text = titles[need["id"]] if source == "own" else need["query"]
    return _experts_shown(indexer, conn, text, bar, size)


def experts(data: Path, work: Path) -> None:
    """English needs -> the demo's experts: the English titles of the Chinese demo problems
    (crosslang_demo.jsonl) against the experts the demo intends for each problem
    (intended_matches.jsonl), through the product's free-text search of experts, with the
    problem's own (Chinese) title as the within-language reference; and the English
    out-of-domain queries (english_out_of_domain.txt), which should show no expert."""
    intended = {
        r["problem_id"]: r["expert_ids"]
        for _, r in read_jsonl(default_data_dir() / "intended_matches.jsonl")
    }
    needs = [r for r in read(DEMO) if r["library"] == "problems" and not _has_cjk(r["query"])]
    lines = (HERE / "english_out_of_domain.txt").read_text(encoding="utf-8").splitlines()
    outside = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    settings = Settings(data_dir=prepare(data, work)["demo"].resolve())
    db = open_database(settings)
    columns = ["MRR@10", "R@10", "intended shown", "others shown / query"]
    print(f"| queries | search | {' | '.join(columns)} | out-of-domain with an expert shown |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    try:
        with db.session() as conn:
            rows_ = conn.execute("SELECT external_id, title FROM problems").fetchall()
            titles = {r["external_id"]: r["title"] for r in rows_}
        indexer = Indexer(settings, db)
        try:
            records = english_records(indexer, db, needs)
        finally:
            indexer.close()
        for label, cross, source in (
            ("English need", False, "text"),
            ("English need", True, "text"),
            ("English problem record", False, "record"),
            ("English problem record", True, "record"),
            ("own title (Chinese)", True, "own"),
        ):
            indexer = Indexer(settings, db, cross_language=cross)
            pick = functools.partial(_shown, source=source, records=records, titles=titles)
            ranked, passing = {}, {}
            try:
                with db.session() as conn:
                    for need in needs:
                        ranked[need["id"]] = pick(indexer, conn, need, False, 10)
                        passing[need["id"]] = pick(indexer, conn, need, True, 20)
                    astray = "-"
                    if source == "text":
                        hits = sum(
                            bool(_experts_shown(indexer, conn, t, True, 20)) for t in outside
                        )
                        astray = f"{hits}/{len(outside)}"
            finally:
                indexer.close()
            report = ranking_report(ranked, {n["id"]: intended[n["id"]] for n in needs})
            # Of the page the bar shows: the share of the intended experts, and the others.
            want = {i: set(intended[i]) for i in passing}
            shown = sum(len(want[i].intersection(passing[i])) / len(want[i]) for i in want)
            others = sum(len(set(passing[i]) - want[i]) for i in want)
            figures = [
                report.mrr_at_10,
                report.recall_at_10,
                shown / len(needs),
                others / len(needs),
            ]
            values = " | ".join(f"{value:.3f}" for value in figures)
            search_ = "cross-language" if cross else "baseline"
            print(f"| {label}, {len(needs)} | {search_} | {values} | {astray} |", flush=True)
    finally:
        db.close()


def one_expert_per_paper(indexer: Indexer, db) -> None:
    """Make each paper of a library the one work of an expert of its own (X-<paper id>, no
    profile), once, so a title searched among the experts has one right answer."""
    with db.session() as conn:
        conn.execute(
            "INSERT INTO experts (external_id, name) SELECT 'X-' || external_id, 'Expert ' || id"
            " FROM achievements ON CONFLICT (external_id) DO NOTHING"
        )
        conn.execute(
            "UPDATE achievements SET expert_ids = ARRAY['X-' || external_id]"
            " WHERE expert_ids = '{}'"
        )
    indexer.sync_pending()


def csl_experts(data: Path, work: Path) -> None:
    """The bilingual CSL titles searched among experts: each paper is one expert's only work,
    and a title should find the expert of its paper in the other language (EN -> ZH: the
    English title among the 1,000 Chinese papers' experts; ZH -> EN: the Chinese title among
    the 258 English papers' experts)."""
    dirs = prepare(data, work)
    sets = query_sets(data)
    print("| set | queries | search | MRR@10 | R@1 | R@10 | own expert passes the bar |")
    print("|---|---|---|---|---|---|---|")
    for name, where in (("csl EN->ZH", "zh"), ("csl ZH->EN", "en")):
        settings = Settings(data_dir=dirs[where].resolve())
        db = open_database(settings)
        try:
            indexer = Indexer(settings, db)
            try:
                one_expert_per_paper(indexer, db)
            finally:
                indexer.close()
            for label, cross in (("baseline", False), ("cross-language", True)):
                indexer = Indexer(settings, db, cross_language=cross)
                ranked, passing = {}, {}
                try:
                    with db.session() as conn:
                        for n, q in enumerate(sets[name]):
                            ranked[str(n)] = _experts_shown(indexer, conn, q.text, False, 10)
                            passing[str(n)] = _experts_shown(indexer, conn, q.text, True, 20)
                finally:
                    indexer.close()
                qrels = {str(n): [f"X-{q.own}"] for n, q in enumerate(sets[name])}
                report = ranking_report(ranked, qrels)
                own = sum(qrels[n][0] in passing[n] for n in qrels) / len(qrels)
                print(
                    f"| {name} experts | {len(qrels)} | {label} | {report.mrr_at_10:.3f} |"
                    f" {report.recall_at_1:.3f} | {report.recall_at_10:.3f} | {own:.3f} |",
                    flush=True,
                )
        finally:
            db.close()


def run(data: Path, work: Path, only: str | None = None) -> None:
    dirs = prepare(data, work)
    sets = {k: v for k, v in query_sets(data).items() if not only or k.startswith(only)}
    where = {"csl EN->ZH": "zh", "csl ZH->EN": "en", "demo EN->ZH": "demo", "demo ZH->EN": "demo"}
    columns = ["MRR@10", "R@1", "R@10", "bar MRR@10", "bar R@10", "own passes"]
    print(f"| set | queries | search | {' | '.join(columns)} |")
    print("|---|---|---|" + "---|" * len(columns))
    for name, queries in sets.items():
        settings = Settings(data_dir=dirs[where[name]].resolve())
        db = open_database(settings)
        try:
            for label, cross in (("baseline", False), ("cross-language", True)):
                indexer = Indexer(settings, db, cross_language=cross)
                try:
                    figures = measure(indexer, queries)
                finally:
                    indexer.close()
                values = " | ".join(f"{figures[c]:.3f}" for c in columns)
                print(f"| {name} | {len(queries)} | {label} | {values} |", flush=True)
        finally:
            db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--work", type=Path, default=Path("var/crosslang"))
    parser.add_argument("--sets", help="only the sets whose name starts so (e.g. demo)")
    parser.add_argument(
        "--abstention", action="store_true", help="the bar's abstention instead (see abstention)"
    )
    parser.add_argument(
        "--experts", action="store_true", help="English needs -> the demo's experts instead"
    )
    args = parser.parse_args()
    if args.experts:
        experts(args.data, args.work)
        csl_experts(args.data, args.work)
    elif args.abstention:
        abstention(args.data, args.work)
    else:
        run(args.data, args.work, args.sets)


if __name__ == "__main__":
    main()
