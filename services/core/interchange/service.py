"""Import and export of whole libraries in the interchange format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import sql
from pydantic import BaseModel, ValidationError

from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import AchievementCreate, AchievementRecord
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.duplicates import service as duplicates
from greenplat.core.errors import DomainError, Forbidden, InvalidInput
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertRecord
from greenplat.core.interchange.formats import Row, write_records
from greenplat.core.interchange.models import JobMode
from greenplat.core.interchange.reading import Limits, open_rows
from greenplat.core.messages import field_message
from greenplat.core.permissions import Principal, Scope, allows, require_any, scope_of
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemRecord
from greenplat.core.reference import service as reference

LIBRARIES = ("problems", "achievements", "experts")
_RESOURCE = {"problems": "problem", "achievements": "achievement", "experts": "expert"}
# Key space of the per-record import locks (plus the library's position), apart from the
# indexer's (74_117_110 and up).
IMPORT_LOCK_SPACE = 74_117_200
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
    field: str | None = None  # the field the row failed on, when one is to blame
    original: dict[str, Any] | None = None  # the row's values as the file held them


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


def _stored(conn: Connection, library: str, external_id: str) -> dict[str, Any] | None:
    """The stored record with this external_id, locked for this import.

    The advisory lock also covers an external_id not stored yet: a second import of the same
    record waits for the first to commit, then sees its result (one import event, not two).
    """
    conn.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
        (IMPORT_LOCK_SPACE + LIBRARIES.index(library), external_id),
    )
    return conn.execute(
        sql.SQL("SELECT * FROM {t} WHERE external_id = %s").format(t=sql.Identifier(library)),
        (external_id,),
    ).fetchone()


def check_reach(
    conn: Connection, principal: Principal, library: str, record: dict[str, Any]
) -> None:
    """Raise Forbidden unless the principal may import the record and update what is stored.

    The incoming values and the stored record are both checked, so a sub-center can neither
    move a record into or out of its region nor overwrite another region's record.
    """
    if not within_reach(conn, principal, "import", library, record):
        raise Forbidden("记录不在你的地区 / record outside your region")
    stored = _stored(conn, library, record["external_id"])
    if stored is None:
        return
    resource = _RESOURCE[library]
    if library == "achievements":
        stored = {**stored, "region": achievements.region_of(conn, stored)}
    if not (
        within_reach(conn, principal, "import", library, stored)
        and allows(principal, resource, "update", stored)
    ):
        raise Forbidden(
            f"已有记录 {record['external_id']} 不在你的地区，不能修改 / "
            f"the stored record {record['external_id']} is outside your reach"
        )


_Record = TypeVar("_Record", bound=BaseModel)


@dataclass(frozen=True)
class _Prepared(Generic[_Record]):
    """A row ready to store: its record, the values mapped to reference names, look-alikes."""

    record: _Record
    mapped: list[reference.Mapped] = field(default_factory=list)
    suspects: list[duplicates.Suspect] = field(default_factory=list)


def _library_record(conn: Connection, library: str, data: dict[str, Any]) -> _Prepared[BaseModel]:
    data, mapped = reference.normalise_record(conn=conn, library=library, data=data)
    record = parse_record(library, data)
    return _Prepared(record, mapped, duplicates.check_import(conn, library, data))


def _store_library_row(
    conn: Connection, principal: Principal, library: str, prepared: _Prepared[BaseModel]
) -> bool:
    """Upsert one record by external_id, within the principal's reach; True when created."""
    check_reach(conn, principal, library, prepared.record.model_dump())
    record_id, created = store_record(conn, library, prepared.record)
    duplicates.remember(conn, library, record_id, prepared.suspects)
    return created


def _own_achievement(
    conn: Connection, library: str, data: dict[str, Any]
) -> _Prepared[AchievementCreate]:
    record = AchievementRecord.model_validate(data)
    fields = record.model_dump(include=set(AchievementCreate.model_fields) - {"extra"})
    return _Prepared(AchievementCreate(**fields, extra=dict(record.model_extra or {})))


def _store_own_achievement(
    conn: Connection, principal: Principal, library: str, prepared: _Prepared[AchievementCreate]
) -> bool:
    """An expert's own achievement: created (never an overwrite), the expert among its experts."""
    achievements.create(conn=conn, principal=principal, data=prepared.record)
    return True


# mode: (row -> what to store, storing it)
_MODES: dict[str, tuple[Any, Any]] = {
    "library": (_library_record, _store_library_row),
    "own_achievements": (_own_achievement, _store_own_achievement),
}


def _import_row(
    conn: Connection,
    principal: Principal,
    library: str,
    mode: JobMode,
    row: Row,
    report: ImportReport,
) -> None:
    parse, store = _MODES[mode]
    try:
        prepared = parse(conn, library, row.data or {})
        # A savepoint per row: a row is stored whole or not at all, and the others go on.
        with conn.transaction():
            created = store(conn, principal, library, prepared)
    except ValidationError as e:
        report.rejected.append(Rejected(row.line, describe(e), _first_field(e), row.data))
        return
    except DomainError as e:
        report.rejected.append(Rejected(row.line, e.message, e.field, row.data))
        report.unknown.extend((row.line, r) for _, r in getattr(e, "unknown", ()))
        return
    except (psycopg.DataError, psycopg.IntegrityError) as e:
        reason = f"数据库拒绝 / rejected by database: {e}"
        report.rejected.append(Rejected(row.line, reason, None, row.data))
        return
    report.mapped.extend((row.line, m) for m in prepared.mapped)
    report.duplicates.extend((row.line, s) for s in prepared.suspects)
    if created:
        report.created += 1
    else:
        report.updated += 1


def _first_field(error: ValidationError) -> str | None:
    errors = error.errors(include_url=False)
    return str(errors[0]["loc"][0]) if errors and errors[0]["loc"] else None


def _duplicate(row: Row, seen: dict[str, int]) -> Rejected | None:
    """A later row repeating an external_id of this file is refused (the first one counts)."""
    external_id = str((row.data or {}).get("external_id", "")).strip()
    if not external_id:
        return None
    if external_id in seen:
        first = seen[external_id]
        return Rejected(
            row.line,
            f"external_id {external_id} 与第 {first} 行重复 / "
            f"duplicate external_id (first at line {first})",
            "external_id",
            row.data,
        )
    seen[external_id] = row.line
    return None


def import_rows(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    rows: Iterable[Row],
    mode: JobMode = "library",
    seen: dict[str, int] | None = None,
) -> ImportReport:
    """Store every good row and report the bad ones; a later duplicate external_id is refused.

    mode "library" upserts by external_id; "own_achievements" creates the principal's own
    achievements. seen (external_id -> first line) carries over between batches of one file.
    """
    check_library(library)
    if mode == "library":
        require_any(principal, "import", "run")
    else:
        require_any(principal, "achievement", "create")
    audit.set_actor(conn, principal)
    report = ImportReport()
    seen = {} if seen is None else seen
    for row in rows:
        problem = Rejected(row.line, row.error) if row.error else _duplicate(row, seen)
        if problem is not None:
            report.rejected.append(problem)
        else:
            _import_row(conn, principal, library, mode, row, report)
    audit.log_import(conn, principal, library, report)
    return report


def import_file(
    *,
    conn: Connection,
    principal: Principal,
    library: str,
    path: Path,
    limits: Limits,
) -> ImportReport:
    """Import a .jsonl, .csv or .xlsx file in one unit of work; raises UnreadableFile."""
    check_library(library)
    with open_rows(path, limits, library=library) as rows:
        return import_rows(conn=conn, principal=principal, library=library, rows=rows)


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
