"""Commands of the api service: serve, db upgrade, users create, demo load, import, export."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from greenplat.core.cliopts import DataDirOption, settings_for
from greenplat.core.errors import DomainError
from greenplat.core.permissions import ROLES, SYSTEM
from greenplat.core.settings import Settings, embed_threads_share
from greenplat.platform import Platform, open_platform

console = Console()
err = Console(stderr=True)

LibraryArg = Annotated[str, typer.Argument(help="problems, achievements or experts")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]错误 / error:[/red] {message}")
    return typer.Exit(code)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def make_searchable(platform: Platform) -> None:
    """Index what the command changed, so the records are searchable when it returns."""
    with console.status("索引中 / indexing…"):
        indexed = platform.indexer.sync_pending()
    console.print(f"已索引 / indexed: {indexed} 项变更 / changes")


KEEP_ALIVE_SECONDS = 75


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def serve(
    data_dir: DataDirOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default settings.host)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default settings.port)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=32, help="Processes answering (default settings.web_workers)"),
    ] = None,
) -> None:
    """Serve the API (and portal) with uvicorn, from one process per core by default."""
    import uvicorn

    settings = settings_for(data_dir)
    # uvicorn re-raises the SIGTERM it shut down on; by default that kills the process before
    # atexit, leaving the embedded PostgreSQL running. Exiting normally lets it stop.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    options: dict[str, Any] = dict(
        host=host or settings.host,
        port=port or settings.port,
        # greenplat.api.access logs every request already, with its request id.
        access_log=False,
        # X-Forwarded-For/-Proto set the client address (sign-in throttling) and the scheme
        # (Secure cookies) only when they come from a proxy the settings name.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        # Idle connections stay open longer than clients keep them (httpx 5 s, browsers and
        # proxies up to a minute): with uvicorn's 5 s, a client reusing a connection the
        # server is closing at that moment sees it dropped (httpx ReadError under load).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Its lines go through greenplat's logging (configure_logging), JSON when so set.
        log_config=None,
    )
    count = workers or settings.web_workers
    if count == 1:
        from greenplat.api.app import create_app

        uvicorn.run(create_app(settings=settings), **options)  # it configures logging
        return
    _serve_workers(settings, count, options)


def _serve_workers(settings: Settings, count: int, options: dict[str, Any]) -> None:
    """uvicorn's worker processes on one port; this process supervises them.

    The workers read their settings from the environment, so the data folder goes there.
    This process starts (or joins) the embedded PostgreSQL and migrates it before they start,
    and holds it until it exits, after its workers. Each worker's torch gets its share of
    the cores (unless GREENPLAT_EMBED_THREADS says otherwise); metrics add up across workers.
    """
    import uvicorn

    from greenplat.core.db import open_database
    from greenplat.core.logging import configure_logging
    from greenplat.core.metrics import MULTIPROCESS_DIR

    configure_logging(settings)
    os.environ["GREENPLAT_DATA_DIR"] = str(settings.data_dir)
    if settings.embed_threads is None:
        os.environ["GREENPLAT_EMBED_THREADS"] = str(embed_threads_share(count))
    open_database(settings).close()  # the pool; the embedded server stays held
    with tempfile.TemporaryDirectory(prefix="greenplat-metrics-") as metrics:
        os.environ[MULTIPROCESS_DIR] = metrics
        uvicorn.run("greenplat.api.app:worker_app", factory=True, workers=count, **options)


def db_upgrade(data_dir: DataDirOption = None) -> None:
    """Apply pending schema migrations."""
    from greenplat.core import migrate
    from greenplat.core.db import open_database

    database = open_database(settings_for(data_dir), upgrade=False)
    try:
        applied = migrate.upgrade(database.url)
    finally:
        database.close()
    console.print(
        f"已应用 / applied: {', '.join(applied) if applied else '(无 / none, up to date)'}"
    )


def users_create(
    username: Annotated[str, typer.Option(help="Login name")],
    role: Annotated[str, typer.Option(help=", ".join(ROLES))],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="≥ 10 chars, not a common one",
        ),
    ],
    region: Annotated[str | None, typer.Option(help="Region name (sub-center admins)")] = None,
    organization: Annotated[str | None, typer.Option(help="Organization (enterprises)")] = None,
    expert: Annotated[str | None, typer.Option(help="external_id of the expert profile")] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the portal")] = "",
    data_dir: DataDirOption = None,
) -> None:
    """Create an account."""
    from greenplat.core.accounts import service as accounts
    from greenplat.core.experts import service as experts

    platform = open_platform(settings_for(data_dir))
    try:
        with platform.db.session() as conn:
            expert_id = None
            if expert:
                found = experts.get_by_external_id(conn=conn, principal=SYSTEM, external_id=expert)
                if found is None:
                    raise _fail(f"专家 {expert} 不存在 / expert {expert} not found")
                expert_id = found.id
            user = accounts.create_user(
                conn=conn,
                username=username,
                password=password,
                role=role,
                region=region,
                organization=organization,
                expert_id=expert_id,
                display_name=display_name,
            )
    except DomainError as e:
        raise _fail(e.message) from e
    finally:
        platform.close()
    console.print(f"已创建用户 / created user {user.username} ({user.role}, id {user.id})")


def demo_load(
    data_dir: DataDirOption = None,
    source: Annotated[
        Path | None, typer.Option("--from", help="Folder of demo JSONL files (default: packaged)")
    ] = None,
) -> None:
    """Load the demo data (idempotent: running it again changes nothing)."""
    from greenplat.core.demo import loader

    platform = open_platform(settings_for(data_dir))
    try:
        with _progress() as progress, platform.db.session() as conn:
            task = progress.add_task("演示数据 / demo data", total=None)
            report = loader.load(
                conn=conn,
                data_dir=source,
                progress=lambda kind, n: progress.update(
                    task, advance=n, description=f"演示数据 / demo {kind}"
                ),
            )
        make_searchable(platform)
    except DomainError as e:
        raise _fail(e.message) from e
    finally:
        platform.close()
    for kind in loader.ORDER:
        console.print(f"{kind}: {report.seen[kind]} (新建 / created {report.created[kind]})")


def import_library(
    library: LibraryArg,
    file: Annotated[Path, typer.Argument(help=".jsonl, .csv or .xlsx")],
    data_dir: DataDirOption = None,
) -> None:
    """Import records; bad rows are reported with line and reason, good rows are stored."""
    from greenplat.core.interchange import jobs
    from greenplat.core.interchange import service as interchange
    from greenplat.core.interchange.reading import Limits, check_file

    settings = settings_for(data_dir)
    limits = Limits.of(settings)
    try:
        interchange.check_library(library)
        check_file(file, limits, library=library)
    except DomainError as e:
        raise _fail(e.message, code=2) from e
    platform = open_platform(settings)
    try:
        with platform.db.session() as conn:
            job = jobs.create_local(
                conn=conn, principal=SYSTEM, library=library, file_name=str(file)
            )
        with _progress() as progress:
            task = progress.add_task(f"导入 / importing {library}", total=None)
            jobs.run(
                platform.db,
                job_id=job.id,
                path=file,
                principal=SYSTEM,
                limits=limits,
                progress=lambda n: progress.advance(task, n),
            )
        make_searchable(platform)
        _print_report(platform, job.id)
    finally:
        platform.close()


def _print_report(platform: Platform, job_id: int) -> None:
    """The contract's output: the counts, then each rejected row with its line and reason."""
    from greenplat.core.interchange import jobs

    with platform.db.session() as conn:
        job = jobs.get_or_raise(conn=conn, principal=SYSTEM, job_id=job_id)
        console.print(
            f"created {job.created}  updated {job.updated}  rejected {job.rejected}"
            f"  (新建 / 更新 / 拒绝)"
        )
        for row in jobs.iter_rejections(conn=conn, principal=SYSTEM, job_id=job_id):
            console.print(f"  line {row.line}: {row.reason}", markup=False, soft_wrap=True)
    if job.error:
        raise _fail(job.error, code=2)


def export_library(
    library: LibraryArg,
    out: Annotated[Path, typer.Option("--out", help=".jsonl, .csv or .xlsx")],
    data_dir: DataDirOption = None,
) -> None:
    """Write every record of a library in the interchange format."""
    from greenplat.core.interchange import formats
    from greenplat.core.interchange import service as interchange

    try:
        interchange.check_library(library)
        formats.file_format(out)
    except DomainError as e:
        raise _fail(e.message, code=2) from e
    platform = open_platform(settings_for(data_dir))
    try:
        with platform.db.session() as conn:
            count = interchange.export_file(conn=conn, principal=SYSTEM, library=library, path=out)
    finally:
        platform.close()
    console.print(f"exported {count} {library} -> {out}")


def register(app: typer.Typer) -> None:
    """Add this service's commands to the root command."""
    app.command("serve")(serve)
    db = typer.Typer(help="Database schema.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    users = typer.Typer(help="Accounts.", no_args_is_help=True)
    users.command("create")(users_create)
    app.add_typer(users, name="users")
    demo = typer.Typer(help="Demo data.", no_args_is_help=True)
    demo.command("load")(demo_load)
    app.add_typer(demo, name="demo")
    app.command("import")(import_library)
    app.command("export")(export_library)
