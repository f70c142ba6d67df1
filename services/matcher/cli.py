"""Commands of the matcher service: match, affinity, eval, assign (interchange contract)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from greenplat.core.cliopts import DataDirOption, settings_for
from greenplat.core.db import Connection
from greenplat.core.errors import DomainError
from greenplat.core.permissions import SYSTEM

if TYPE_CHECKING:
    from greenplat.matcher.service import Matcher

console = Console()
err = Console(stderr=True, soft_wrap=True)  # a long path stays on one line, whole
SOURCES = {"problem_id": "problems", "expert_id": "experts", "achievement_id": "achievements"}
TARGETS = ("achievements", "experts", "problems")
# Queries embedded ahead at a time: well inside the query cache (settings.query_cache_size).
PRIME_BATCH = 256

InFile = Annotated[Path, typer.Option(exists=True, dir_okay=False, readable=True)]
OutFile = Annotated[Path, typer.Option("--out", dir_okay=False, help="JSON Lines to write")]
ToOption = Annotated[str, typer.Option("--to", help="achievements, experts or problems")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]错误 / error:[/red] {message}")
    return typer.Exit(code)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Objects of a JSON Lines file (blank lines skipped); a bad line stops with its number."""
    rows = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise _fail(f"{path}:{number}: not JSON ({e.msg})") from e
            if not isinstance(row, dict):
                raise _fail(f"{path}:{number}: expected a JSON object")
            rows.append(row)
    return rows


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@contextmanager
def _matcher(data_dir: Path | None) -> Iterator[tuple[Matcher, Connection]]:
    """The matcher and the command's one session (a command acts as a platform admin)."""
    from greenplat.platform import open_platform

    platform = open_platform(settings_for(data_dir))
    try:
        # Whatever an import left in the outbox is searchable before matching starts.
        platform.indexer.sync_pending()
        with platform.db.session() as conn:
            yield platform.matcher, conn
    finally:
        platform.close()


def _run_query(
    session: tuple[Matcher, Connection],
    row: dict[str, Any],
    target: str,
    k: int,
    mode: str,
    *,
    bar: bool = True,
) -> list[dict]:
    matcher, conn = session
    if isinstance(row.get("query"), str):
        matches = matcher.match(target, conn=conn, k=k, text=row["query"], mode=mode, bar=bar)
    else:
        key = next((key for key in SOURCES if row.get(key) is not None), None)
        if key is None:
            raise DomainError("a query needs query, problem_id, expert_id or achievement_id")
        record_id = matcher.resolve(SOURCES[key], str(row[key]), conn=conn)
        matches = matcher.match(
            target,
            conn=conn,
            k=k,
            mode=mode,
            bar=bar,
            problem_id=record_id if key == "problem_id" else None,
            expert_id=record_id if key == "expert_id" else None,
            achievement_id=record_id if key == "achievement_id" else None,
        )
    return [
        {"id": m.external_id, "score": m.score, "level": m.level, "why": m.why} for m in matches
    ]


def _prime(matcher: Matcher, rows: list[dict[str, Any]]) -> None:
    """Start embedding the coming free-text queries together: one model call per 32 of them
    instead of one each. The model works on them while the queries before them are matched
    (query embedding was most of a query's time)."""
    texts = [row["query"].strip() for row in rows if isinstance(row.get("query"), str)]
    matcher.indexer.prime_queries([t for t in texts if t], wait=False)


def match(
    to: ToOption,
    queries: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON Lines")],
    out: OutFile,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="Matches per query")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, lexical or vector")] = "hybrid",
    all_: Annotated[
        bool, typer.Option("--all", help="Lift the relevance bar (for ranking evaluations)")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Best matches in a library for each query line that pass the relevance bar."""
    if to not in TARGETS:
        raise _fail(f"--to must be one of {', '.join(TARGETS)}")
    rows = read_jsonl(queries)
    failed = 0
    with _matcher(data_dir) as session, out.open("w", encoding="utf-8") as handle, _progress() as p:
        started = time.perf_counter()
        task = p.add_task(f"匹配 / matching -> {to}", total=len(rows))
        for n, row in enumerate(rows):
            if n % PRIME_BATCH == 0 and mode != "lexical":
                # One window ahead: the next window embeds while this one is matched (the
                # query cache holds both).
                if n == 0:
                    _prime(session[0], rows[:PRIME_BATCH])
                _prime(session[0], rows[n + PRIME_BATCH : n + 2 * PRIME_BATCH])
            line: dict[str, Any] = {"query_id": row.get("query_id"), "matches": []}
            try:
                line["matches"] = _run_query(session, row, to, k, mode, bar=not all_)
            except DomainError as e:
                line["error"] = e.message
                failed += 1
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            p.advance(task)
        seconds = time.perf_counter() - started
    rate = len(rows) / seconds if seconds else 0.0
    console.print(
        f"{len(rows)} queries -> {out} ({failed} failed) in {seconds:.1f} s, {rate:.1f} queries/s"
    )


def affinity(
    pairs: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON Lines")],
    out: OutFile,
    data_dir: DataDirOption = None,
) -> None:
    """Score each (expert_id, problem_id) line: how well that expert fits that problem."""
    rows = read_jsonl(pairs)
    keys = [(str(r.get("expert_id")), str(r.get("problem_id"))) for r in rows]
    with _matcher(data_dir) as (matcher, conn), err.status("评分中 / scoring…"):
        scores = matcher.affinity(keys, conn=conn)
    unknown = 0
    with out.open("w", encoding="utf-8") as handle:
        for row, score in zip(rows, scores, strict=True):
            if score is None:
                unknown += 1
                row = {**row, "score": None, "error": "unknown expert_id or problem_id"}
            else:
                row = {**row, "score": round(score, 6)}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    console.print(f"{len(rows)} pairs -> {out} ({unknown} with unknown ids)")


def evaluate(
    qrels: Annotated[Path | None, typer.Option(help="Labelled queries (JSON Lines)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Library the qrels point into")] = None,
    ratings: Annotated[Path | None, typer.Option(help="Expertise ratings (JSON Lines)")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, lexical, vector or all")] = "hybrid",
    data_dir: DataDirOption = None,
) -> None:
    """Print MRR@10, Recall@1, Recall@10, nDCG@10 (--qrels) or the expertise loss (--ratings)."""
    from greenplat.matcher import evaluation

    if (qrels is None) == (ratings is None):
        raise _fail("give either --qrels FILE --to LIBRARY or --ratings FILE")
    if ratings is not None:
        rated = [evaluation.Rating(**_rating(r)) for r in read_jsonl(ratings)]
        with _matcher(data_dir) as (matcher, conn), err.status("评分中 / scoring…"):
            scores = matcher.affinity([(r.expert_id, r.problem_id) for r in rated], conn=conn)
        table = {(r.expert_id, r.problem_id): s or 0.0 for r, s in zip(rated, scores, strict=True)}
        loss = evaluation.expertise_loss(rated, table)
        console.print(f"pairs {len(rated)}  experts {len({r.expert_id for r in rated})}")
        console.print(f"expertise loss {loss:.4f}")
        return
    if to not in TARGETS:
        raise _fail(f"--to must be one of {', '.join(TARGETS)}")
    modes = ["lexical", "vector", "hybrid"] if mode == "all" else [mode]
    assert qrels is not None  # exactly one of --qrels and --ratings was given
    labelled = read_jsonl(qrels)
    relevant = {str(r["query_id"]): [str(i) for i in r.get("relevant", [])] for r in labelled}
    result = Table("mode", "queries", "MRR@10", "Recall@1", "Recall@10", "nDCG@10")
    with _matcher(data_dir) as session:
        for one in modes:
            runs = _runs(session, labelled, to, one)
            report = evaluation.ranking_report(runs, relevant)
            result.add_row(one, *[value for _, value in report.rows()])
    console.print(result)


def _rating(row: dict[str, Any]) -> dict[str, Any]:
    try:
        return {
            "expert_id": str(row["expert_id"]),
            "problem_id": str(row["problem_id"]),
            "expertise": float(row["expertise"]),
        }
    except (KeyError, TypeError, ValueError) as e:
        raise _fail(f"a ratings line lacks expert_id, problem_id or expertise: {row}") from e


def _runs(
    session: tuple[Matcher, Connection], labelled: list[dict], to: str, mode: str
) -> dict[str, list[str]]:
    runs: dict[str, list[str]] = {}
    with _progress() as p:
        task = p.add_task(f"{mode} -> {to}", total=len(labelled))
        for row in labelled:
            try:
                runs[str(row["query_id"])] = _ranked_ids(session, row, to, mode)
            except DomainError:
                runs[str(row["query_id"])] = []
            p.advance(task)
    return runs


def _ranked_ids(
    session: tuple[Matcher, Connection], row: dict[str, Any], to: str, mode: str
) -> list[str]:
    """Top 10 ids for a labelled query, bar lifted (a ranking evaluation); free text skips the
    explanations (same ranking)."""
    matcher, conn = session
    if isinstance(row.get("query"), str) and to != "experts":
        hits = matcher.retrieve(
            to,
            row["query"],
            conn=conn,
            principal=SYSTEM,
            k=10,
            mode=mode,
            filters={"status": None},
            bar=False,
        )
        return [hit.external_id for hit, _, _ in hits]
    return [m["id"] for m in _run_query(session, row, to, 10, mode, bar=False)]


def assign(
    problems: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="problem ids")],
    out: OutFile,
    experts: Annotated[Path | None, typer.Option(help="expert ids (default: all)")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Experts per problem")] = 3,
    record: Annotated[bool, typer.Option(help="Store 'invited' feedback for each pair")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Event assignment: k experts per problem, maximising total fit under capacity."""
    problem_ext = _ids(problems, "problem_id")
    expert_ext = _ids(experts, "expert_id") if experts else None
    with _matcher(data_dir) as (matcher, conn):
        try:
            problem_ids = [matcher.resolve("problems", e, conn=conn) for e in problem_ext]
            expert_ids = None
            if expert_ext:
                expert_ids = [matcher.resolve("experts", e, conn=conn) for e in expert_ext]
            with err.status("求解中 / solving…"):
                result = matcher.assign(
                    problem_ids, expert_ids, conn=conn, principal=SYSTEM, k=k, record=record
                )
        except DomainError as e:
            raise _fail(e.message) from e
    with out.open("w", encoding="utf-8") as handle:
        for problem in result.problems:
            line = {
                "problem_id": problem.external_id,
                "experts": [{"id": e.external_id, "score": e.score} for e in problem.experts],
                "unfilled": problem.unfilled,
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    console.print(f"{len(result.problems)} problems, total fit {result.total_score:.4f} -> {out}")


def _ids(path: Path, key: str) -> list[str]:
    """External ids from JSON Lines ({key: id}) or plain lines (one id each)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            out.append(line)
            continue
        try:
            value = json.loads(line).get(key)
        except (json.JSONDecodeError, AttributeError) as e:
            raise _fail(f"{path}:{number}: not a JSON object") from e
        if value is None:
            raise _fail(f"{path}:{number}: missing {key}")
        out.append(str(value))
    return out


def register(app: typer.Typer) -> None:
    """Add this service's commands to the root command."""
    app.command("match")(match)
    app.command("affinity")(affinity)
    app.command("eval")(evaluate)
    app.command("assign")(assign)
