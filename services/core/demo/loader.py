"""Loads the project's demo data: regions, experts, accounts, achievements, problems, and
the problems' timeline with the experts' feedback (activity.jsonl, see demo/activity.py).

Idempotent: records are upserted by their keys and unchanged rows are left alone, existing
accounts are kept as they are, so loading twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from greenplat.core.accounts import service as accounts
from greenplat.core.db import Connection
from greenplat.core.demo import activity
from greenplat.core.errors import DomainError
from greenplat.core.interchange.service import describe, parse_record, store_record
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate

ORDER = ("regions", "experts", "accounts", "achievements", "problems")


class DemoDataError(DomainError):
    """A demo file holds a record that cannot be loaded."""

    code = "demo_data"


@dataclass
class DemoReport:
    """How many records of each kind were created (the rest were already there)."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER, 0))
    seen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORDER, 0))
    dated: int = 0  # problems given their activity.jsonl timeline by this load


def default_data_dir() -> Path:
    """The demo data shipped with the package."""
    return Path(str(resources.files("greenplat.core.demo") / "data"))


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The (line, record) pairs of a JSON Lines file; a missing file has none."""
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise DemoDataError(f"{path.name}:{number}: {e.msg}") from e
    return rows


def _load_region(conn: Connection, row: dict[str, Any]) -> bool:
    return regions.upsert_region(conn=conn, data=RegionCreate(**row))[1]


def _load_account(conn: Connection, row: dict[str, Any]) -> bool:
    if accounts.get_by_username(conn=conn, username=row["username"]) is not None:
        return False
    expert_id = None
    if row.get("expert_external_id"):
        found = conn.execute(
            "SELECT id FROM experts WHERE external_id = %s", (row["expert_external_id"],)
        ).fetchone()
        if found is None:
            raise DemoDataError(f"expert {row['expert_external_id']} not found")
        expert_id = found["id"]
    accounts.create_user(
        conn=conn,
        username=row["username"],
        password=row["password"],
        role=row["role"],
        region=row.get("region") or None,
        organization=row.get("organization") or None,
        expert_id=expert_id,
        display_name=row.get("display_name") or "",
    )
    return True


def _owner_id(conn: Connection, username: str | None) -> int | None:
    if not username:
        return None
    found = conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
    if found is None:
        raise DemoDataError(f"owner {username} not found")
    return found["id"]


def _load_library(conn: Connection, library: str, row: dict[str, Any]) -> bool:
    row = dict(row)
    options = {}
    if library == "problems":
        options["owner_id"] = _owner_id(conn, row.pop("owner_username", None))
    try:
        record = parse_record(library, row)
    except ValidationError as e:
        raise DemoDataError(describe(e)) from e
    return store_record(conn, library, record, **options)[1]


def _loader(kind: str) -> Callable[[Connection, dict[str, Any]], bool]:
    if kind == "regions":
        return _load_region
    if kind == "accounts":
        return _load_account
    return lambda conn, row: _load_library(conn, kind, row)


def load(
    *,
    conn: Connection,
    data_dir: Path | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> DemoReport:
    """Load every demo file of data_dir (default: the packaged data) in dependency order."""
    folder = data_dir or default_data_dir()
    report = DemoReport()
    for kind in ORDER:
        load_one = _loader(kind)
        for number, row in read_jsonl(folder / f"{kind}.jsonl"):
            try:
                created = load_one(conn, row)
            except DomainError as e:
                raise DemoDataError(f"{kind}.jsonl:{number}: {e.message}") from e
            except ValidationError as e:
                raise DemoDataError(f"{kind}.jsonl:{number}: {describe(e)}") from e
            except KeyError as e:
                raise DemoDataError(f"{kind}.jsonl:{number}: missing {e}") from e
            report.seen[kind] += 1
            report.created[kind] += int(created)
            if progress is not None:
                progress(kind, 1)
    now = activity.load_time(conn)
    for number, row in read_jsonl(folder / "activity.jsonl"):
        try:
            report.dated += int(activity.apply_row(conn, row, now))
        except DomainError as e:
            raise DemoDataError(f"activity.jsonl:{number}: {e.message}") from e
        if progress is not None:
            progress("activity", 1)
    return report
