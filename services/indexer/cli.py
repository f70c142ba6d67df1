"""Commands of the indexer service: `greenplat index ...` and `greenplat models ...`."""

from __future__ import annotations

import json
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from greenplat.core.settings import get_settings

index_app = typer.Typer(
    help="搜索索引 / search indexes: status, verify, rebuild.", no_args_is_help=True
)
models_app = typer.Typer(help="嵌入模型 / embedding models.", no_args_is_help=True)
console = Console()


@contextmanager
def _indexer():
    from greenplat.platform import open_platform

    platform = open_platform(get_settings())
    try:
        yield platform.indexer
    finally:
        platform.close()


@index_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Outbox lag and failures, records vs indexed documents per library."""
    with _indexer() as indexer:
        report = indexer.status()
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
    repair: bool = typer.Option(True, "--repair/--no-repair", help="Fix the drift found."),
) -> None:
    """Compare database and index; repair drift (exit 1 if drift remains unrepaired)."""
    with _indexer() as indexer:
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
def rebuild() -> None:
    """Re-embed and re-index every record (searches keep answering meanwhile)."""
    with _indexer() as indexer:
        counts = indexer.rebuild(progress=True)
    console.print(", ".join(f"{lib} {n}" for lib, n in counts.items()))


@models_app.command("prepare")
def prepare(force: bool = typer.Option(False, "--force", help="Rebuild even if prepared.")) -> None:
    """Prepare the default embedding model folder (quick when already prepared)."""
    from greenplat.indexer.modelprep import E5_SMALL_NAME, minilm_path, prepare_e5_small

    settings = get_settings()
    prepare_e5_small(settings.models_dir / E5_SMALL_NAME, force=force)
    console.print(f"minilm: {minilm_path()}")


def register(app: typer.Typer) -> None:
    """Add this service's commands to the root command."""
    app.add_typer(index_app, name="index")
    app.add_typer(models_app, name="models")
