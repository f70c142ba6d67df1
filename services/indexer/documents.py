"""What the index holds for each record: terms, filter fields, the text to embed, a hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenplat.core.achievements.models import published_sql
from greenplat.core.db import Connection
from greenplat.indexer.analysis import terms, terms_of, tsvector_literal

_QUERIES = {
    "problems": "SELECT id, external_id, title, description, keywords, industry, region,"
    " organization, organization_id, status, confidential, owner_id FROM problems",
    "achievements": "SELECT id, external_id, title, abstract, keywords, kind, discipline,"
    " organization, expert_ids FROM achievements",
    "experts": "SELECT id, external_id, name, organization, title, disciplines, keywords, bio,"
    " region FROM experts",
}
# Which records the index holds: a withdrawn achievement leaves search and matching (its
# outbox change then finds it absent here, and the index drops it).
_INDEXED = {
    "problems": "TRUE",
    "achievements": published_sql(),
    "experts": "TRUE",
}


def indexed_condition(library: str) -> str:
    """The SQL condition, on the library's own table, of the records the index holds. The
    index follows a change only once the outbox drains; readers of search hits apply it to
    the rows they read, so a record withdrawn a moment ago is not shown meanwhile."""
    return _INDEXED[library]


FILTER_FIELDS = (
    "region",
    "industry",
    "disciplines",
    "status",
    "kind",
    "confidential",
    "organization_id",
    "owner_id",
    "expert_ids",
)


@dataclass
class IndexDoc:
    """One record as the search backends store it."""

    library: str
    record_id: int
    external_id: str
    title: str
    passage: str  # the text embedded
    weighted_terms: list[tuple[str, list[str]]]  # (tsvector weight A-D, terms)
    fields: dict[str, Any]
    models: list[str] = field(default_factory=list)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def lexemes(self) -> str:
        """The PostgreSQL tsvector literal of the terms."""
        return tsvector_literal(self.weighted_terms)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything the index stores for this record would change."""
        payload: list[Any] = [self.external_id, self.title, self.passage, self.weighted_terms]
        payload += [self.fields, sorted(self.models)]
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _join(*parts: str | None) -> str:
    return "\n".join(part.strip() for part in parts if part and part.strip())


def _keywords(values: list[str] | None) -> str:
    return "；".join(values or [])


def _problem(row: dict) -> IndexDoc:
    return IndexDoc(
        library="problems",
        record_id=row["id"],
        external_id=row["external_id"],
        title=row["title"],
        passage=_join(row["title"], _keywords(row["keywords"]), row["description"]),
        weighted_terms=[
            ("A", terms(row["title"])),
            ("B", terms_of(row["keywords"] or [])),
            ("D", terms(row["description"])),
        ],
        fields={
            "region": row["region"],
            "industry": row["industry"],
            "disciplines": [],
            "status": row["status"],
            "kind": None,
            "confidential": bool(row["confidential"]),
            "organization_id": row["organization_id"],
            "owner_id": row["owner_id"],
            "expert_ids": [],
        },
    )


def _achievement(row: dict) -> IndexDoc:
    return IndexDoc(
        library="achievements",
        record_id=row["id"],
        external_id=row["external_id"],
        title=row["title"],
        passage=_join(row["title"], _keywords(row["keywords"]), row["abstract"]),
        weighted_terms=[
            ("A", terms(row["title"])),
            ("B", terms_of(row["keywords"] or [])),
            ("D", terms(row["abstract"])),
        ],
        fields={
            "region": None,
            "industry": None,
            "disciplines": [row["discipline"]] if row["discipline"] else [],
            "status": None,
            "kind": row["kind"],
            "confidential": False,
            "organization_id": None,
            "owner_id": None,
            "expert_ids": list(row["expert_ids"] or []),
        },
    )


def _expert(row: dict) -> IndexDoc:
    # The name is searchable by words but not embedded: it says nothing about expertise.
    return IndexDoc(
        library="experts",
        record_id=row["id"],
        external_id=row["external_id"],
        title=row["name"],
        passage=_join(
            row["title"],
            _keywords(row["disciplines"]),
            _keywords(row["keywords"]),
            row["bio"],
        ),
        weighted_terms=[
            ("A", terms(row["name"])),
            ("B", terms_of([*(row["disciplines"] or []), *(row["keywords"] or [])])),
            ("C", terms_of([row["title"], row["organization"]])),
            ("D", terms(row["bio"])),
        ],
        fields={
            "region": row["region"],
            "industry": None,
            "disciplines": list(row["disciplines"] or []),
            "status": None,
            "kind": None,
            "confidential": False,
            "organization_id": None,
            "owner_id": None,
            "expert_ids": [row["external_id"]],
        },
    )


_BUILDERS = {"problems": _problem, "achievements": _achievement, "experts": _expert}


def load_documents(conn: Connection, library: str, ids: list[int]) -> list[IndexDoc]:
    """The index documents of these records as the database holds them now (missing: absent)."""
    if not ids:
        return []
    rows = conn.execute(
        f"{_QUERIES[library]} WHERE {_INDEXED[library]} AND id = ANY(%s) ORDER BY id", (ids,)
    ).fetchall()
    return [_BUILDERS[library](row) for row in rows]


def iter_documents(conn: Connection, library: str, *, chunk: int = 500) -> Iterator[list[IndexDoc]]:
    """Every record of a library as index documents, in chunks of ascending id."""
    last = 0
    while True:
        rows = conn.execute(
            f"{_QUERIES[library]} WHERE {_INDEXED[library]} AND id > %s ORDER BY id LIMIT %s",
            (last, chunk),
        ).fetchall()
        if not rows:
            return
        last = rows[-1]["id"]
        yield [_BUILDERS[library](row) for row in rows]


def record_ids(conn: Connection, library: str) -> list[int]:
    """Ids of every record of a library that the index holds."""
    query = f"SELECT id FROM {library} WHERE {_INDEXED[library]} ORDER BY id"
    return [row["id"] for row in conn.execute(query)]


def indexed_count(conn: Connection, library: str) -> int:
    """How many records of a library the index should hold."""
    row = conn.execute(f"SELECT count(*) AS n FROM {library} WHERE {_INDEXED[library]}").fetchone()
    return int(row["n"]) if row else 0
