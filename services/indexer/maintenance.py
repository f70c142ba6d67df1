"""Status, verification (with repair) and full rebuilds of the search indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from greenplat.core import outbox
from greenplat.core.db import Connection, one
from greenplat.core.outbox import LIBRARIES, Library, record_changes
from greenplat.indexer.documents import indexed_count, iter_documents

if TYPE_CHECKING:
    from greenplat.indexer.service import Indexer

REBUILD_BATCH = 128


def status(indexer: Indexer, conn: Connection) -> dict[str, Any]:
    """Backend, models, outbox lag and failures, records and indexed documents per library."""
    lag = outbox.total(outbox.health(conn).values())
    errors = conn.execute(
        "SELECT id, library, record_id, attempts, last_error FROM outbox"
        " WHERE processed_at IS NULL AND last_error IS NOT NULL ORDER BY id DESC LIMIT 5"
    ).fetchall()
    libraries = {}
    for library in LIBRARIES:
        records = indexed_count(conn, library)
        indexed = indexer.backend.count(conn, library)
        libraries[library] = {"records": records, "indexed": indexed}
    return {
        "backend": indexer.backend.name,
        "models": indexer.models,
        "languages": indexer.language_models,
        "pending": lag.pending,
        "failing": lag.failing,
        "given_up": lag.given_up,
        "oldest_pending_seconds": lag.lag_seconds,
        "recent_errors": [dict(row) for row in errors],
        "libraries": libraries,
    }


def _library_drift(indexer: Indexer, conn: Connection, library: str) -> dict[str, list[int]]:
    fingerprints = indexer.backend.fingerprints(conn, library)
    with_vectors = {
        model: indexer.backend.vector_ids(conn, library, model) for model in indexer.models
    }
    missing, stale, seen = [], [], set()
    for docs in iter_documents(conn, library):
        for doc in docs:
            seen.add(doc.record_id)
            doc.models = indexer.model_set.models_for(doc.passage)
            if doc.record_id not in fingerprints:
                missing.append(doc.record_id)
            elif fingerprints[doc.record_id] != doc.content_hash or any(
                doc.record_id not in with_vectors[model] for model in doc.models
            ):
                stale.append(doc.record_id)
    extra = sorted(set(fingerprints) - seen)
    return {"missing": missing, "stale": stale, "extra": extra}


def verify(indexer: Indexer, *, repair: bool = True) -> dict[str, Any]:
    """Compare every library with its index; repair queues upserts/deletes and drains them."""
    report: dict[str, Any] = {}
    with indexer.db.session() as conn:
        for library in LIBRARIES:
            drift = _library_drift(indexer, conn, library)
            report[library] = {name: len(ids) for name, ids in drift.items()}
            if repair:
                record_changes(conn, library, drift["missing"] + drift["stale"], "upsert")
                record_changes(conn, library, drift["extra"], "delete")
    report["drift"] = sum(n for lib in LIBRARIES for n in report[lib].values())
    report["repaired"] = 0
    if repair and report["drift"] and not indexer.settings.broker_url:
        report["repaired"] = indexer.sync_pending()
    return report


def rebuild(indexer: Indexer, *, progress: bool = True) -> dict[str, int]:
    """Re-embed (refreshing the cache) and re-index everything; searches keep working."""
    with indexer.db.session() as conn:
        indexer.ensure_storage(conn)
    counts: dict[str, int] = {}
    console = Console(stderr=True, quiet=not progress)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not progress,
    ) as bar:
        for library in LIBRARIES:
            counts[library] = _rebuild_library(indexer, library, bar)
    return counts


def _rebuild_library(indexer: Indexer, library: Library, bar: Progress) -> int:
    backend = indexer.backend
    with indexer.db.session() as conn:
        total = indexed_count(conn, library)
        mark = one(conn, "SELECT coalesce(max(id), 0) AS m FROM outbox")["m"]
        target = backend.begin_rebuild(conn, library)
    task = bar.add_task(f"rebuilding {library}", total=total)
    done = 0
    try:
        with indexer.db.pool.connection() as reader:
            for docs in iter_documents(reader, library, chunk=REBUILD_BATCH):
                with indexer.db.session() as conn:
                    indexer.embed_documents(conn, docs, refresh=True)
                    backend.write_rebuild(conn, library, target, docs)
                done += len(docs)
                bar.update(task, completed=done)
        with indexer.db.session() as conn:
            backend.finish_rebuild(conn, library, target)
            _settle_outbox(conn, library, mark)
    except BaseException:
        backend.abort_rebuild(library, target)
        raise
    return done


def _settle_outbox(conn: Connection, library: Library, mark: int) -> None:
    # Rows older than the rebuild are covered by it. Changes made while it ran may have gone to
    # the index being replaced: announce those records again so they reach the new one.
    conn.execute(
        "UPDATE outbox SET processed_at = now(), last_error = NULL"
        " WHERE library = %s AND id <= %s AND processed_at IS NULL",
        (library, mark),
    )
    changed = conn.execute(
        "SELECT DISTINCT record_id FROM outbox WHERE library = %s AND id > %s",
        (library, mark),
    ).fetchall()
    record_changes(conn, library, [row["record_id"] for row in changed], "upsert")
