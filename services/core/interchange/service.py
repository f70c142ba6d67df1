"""Import and export of whole libraries in the interchange format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from pydantic import BaseModel, ValidationError

from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import AchievementRecord
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.duplicates import service as duplicates
from greenplat.core.errors import DomainError, Forbidden, InvalidInput
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertRecord
from greenplat.core.interchange.formats import Row, read_rows, write_records
from greenplat.core.messages import field_message
from greenplat.core.permissions import Principal, Scope, allows, require_any, scope_of
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemRecord
from greenplat.core.reference import service as reference

LIBRARIES = ("problems", "achievements", "experts")
# library: (record schema, service module, contract fields in file order)
_LIBRARY: dict[str, tuple[type[BaseModel], Any, tuple[str, ...]]] = {
    "problems": (ProblemRecord, problems, ("external_id", *problems.FIELDS, "status")),
    "achievements": (AchievementRecord, achievements, ("external_id", *achievements.FIELDS)),
    "experts": (ExpertRecord, experts, ("external_id", *experts.FIELDS)),
}


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did: counts, and each rejected row with its line and reason."""

    created: int = 0
    updated: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    # (line, value replaced by its canonical form) for rows that were stored
    mapped: list[tuple[int, reference.Mapped]] = field(default_factory=list)
    unknown: list[tuple[int, reference.Resolution]] = field(default_factory=list)
    duplicates: list[tuple[int, duplicates.Suspect]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + len(self.rejected)


def check_library(library: str) -> None:
    """Raise InvalidInput unless library names one of the three libraries."""
    if library not in _LIBRARY:
        raise InvalidInput(
            f"未知的库 {library}，可选 problems、achievements、experts / unknown library {library}",
            field="library",
        )


def describe(error: ValidationError) -> str:
    """A validation error as one line naming each field and what is wrong."""
    parts = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"]) or "record"
        parts.append(f"{where}: {field_message(e)}")
    return "; ".join(parts)


def parse_record(library: str, data: dict[str, Any]) -> BaseModel:
    """The record schema of the library applied to one row (raises ValidationError)."""
    schema = _LIBRARY[library][0]
    return schema.model_validate(data)


def store_record(
    conn: Connection, library: str, record: BaseModel, **options: Any
) -> tuple[int, bool]:
    """Upsert one validated record into its library; returns (id, created)."""
    return _LIBRARY[library][1].upsert_record(conn=conn, record=record, **options)


def within_reach(
    conn: Connection, principal: Principal, action: str, library: str, record: dict
) -> bool:
    """Whether a sub-center (REGION scope) may import or export this record; others: all."""
    if Scope.ALL in scope_of(principal, action, "run"):
        return True
    if library == "achievements":
        record = {**record, "region": achievements.region_of(conn, record)}
    return allows(principal, action, "run", record)


def _import_row(
    conn: Connection, principal: Principal, library: str, row: Row, report: ImportReport
) -> None:
    try:
        data, mapped = reference.normalise_record(conn=conn, library=library, data=row.data or {})
        record = parse_record(library, data)
        if not within_reach(conn, principal, "import", library, record.model_dump()):
            raise Forbidden("记录不在你的地区 / record outside your region")
        suspects = duplicates.check_import(conn, library, data)
        # A savepoint per row: a row is stored whole or not at all, and the others go on.
        with conn.transaction():
            record_id, created = store_record(conn, library, record)
            duplicates.remember(conn, library, record_id, suspects)
    except ValidationError as e:
        report.rejected.append(Rejected(row.line, describe(e)))
        return
    except DomainError as e:
        report.rejected.append(Rejected(row.line, e.message))
        report.unknown.extend((row.line, r) for _, r in getattr(e, "unknown", ()))
        return
    except (psycopg.DataError, psycopg.IntegrityError) as e:
        report.rejected.append(Rejected(row.line, f"数据库拒绝 / rejected by database: {e}"))
        return
    report.mapped.extend((row.line, m) for m in mapped)
    report.duplicates.extend((row.line, s) for s in suspects)
    if created:
        report.created += 1
    else:
        report.updated += 1


def import_rows(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    rows: list[Row],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store every good row and report the bad ones; a later duplicate external_id is refused."""
    check_library(library)
    require_any(principal, "import", "run")
    audit.set_actor(conn, principal)
    report = ImportReport()
    first_line: dict[str, int] = {}
    for row in rows:
        if row.error is not None:
            report.rejected.append(Rejected(row.line, row.error))
        else:
            external_id = str((row.data or {}).get("external_id", "")).strip()
            if external_id and external_id in first_line:
                report.rejected.append(
                    Rejected(
                        row.line,
                        f"external_id {external_id} 与第 {first_line[external_id]} 行重复 / "
                        f"duplicate external_id (first at line {first_line[external_id]})",
                    )
                )
            else:
                if external_id:
                    first_line[external_id] = row.line
                _import_row(conn, principal, library, row, report)
        if progress is not None:
            progress(1)
    audit.log_import(conn, principal, library, report)
    return report


def import_file(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    path: Path,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a .jsonl, .csv or .xlsx file; raises UnreadableFile when it cannot be read."""
    check_library(library)
    rows = read_rows(path)
    return import_rows(
        conn=conn, principal=principal, library=library, rows=rows, progress=progress
    )


def iter_library(*, conn: Connection, library: str) -> Iterator[dict[str, Any]]:
    """Every record of the library in the interchange shape."""
    check_library(library)
    return _LIBRARY[library][1].iter_records(conn=conn)


def export_file(*, conn: Connection, principal: Principal, library: str, path: Path) -> int:
    """Write every record of the library to path (format from its extension); returns count."""
    check_library(library)
    require_any(principal, "export", "run")
    fields = _LIBRARY[library][2]
    records = (
        r
        for r in iter_library(conn=conn, library=library)
        if within_reach(conn, principal, "export", library, r)
    )
    count = write_records(path, fields, records)
    audit.record(
        conn,
        actor=principal,
        action="export",
        library=library,
        rows=count,
        region=principal.region,
        detail={"file": path.name},
    )
    return count
