"""Near-duplicates of problems and achievements within one organization.

Every record of an organization gets a MinHash fingerprint of its title and text (jieba
2-shingles) with LSH bands; a new text is compared with the records sharing a band or its
exact key. bench/duplicates.py measures the detector (precision and recall in docs/data.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from psycopg import sql

from greenplat.core.db import Connection
from greenplat.core.duplicates import fingerprint as fp
from greenplat.core.errors import Conflict

THRESHOLD = 0.5
LIBRARIES = ("problems", "achievements")
BODY = {"problems": "description", "achievements": "abstract"}
NOUN = {"problems": ("需求", "problem"), "achievements": ("成果", "achievement")}


class ExactDuplicate(Conflict):
    """The same text from the same organization is already stored under another id."""

    code = "exact_duplicate"


@dataclass(frozen=True)
class Suspect:
    library: str
    id: int
    external_id: str
    title: str
    score: float
    exact: bool


@dataclass(frozen=True)
class Fingerprint:
    exact_key: str
    signature: np.ndarray
    bands: list[int]


def fingerprint_of(title: str, body: str) -> Fingerprint:
    """The fingerprint of a record's title and text."""
    signature = fp.minhash(fp.shingles(f"{title}。{body}"))
    return Fingerprint(fp.exact_key(title, body), signature, fp.bands(signature))


def _store(conn: Connection, library: str, row: dict, f: Fingerprint) -> None:
    conn.execute(
        "INSERT INTO record_fingerprints (library, record_id, organization, exact_key, bands,"
        " signature) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (library, record_id) DO UPDATE SET organization = EXCLUDED.organization,"
        " exact_key = EXCLUDED.exact_key, bands = EXCLUDED.bands,"
        " signature = EXCLUDED.signature, computed_at = clock_timestamp()",
        (library, row["id"], row["organization"], f.exact_key, f.bands,
         [int(v) for v in f.signature]),
    )  # fmt: skip


def _stale(conn: Connection, library: str, where: str, value: object) -> list[dict]:
    return conn.execute(
        sql.SQL(
            "SELECT r.id, r.organization, r.title, r.{b} AS body FROM {t} r"
            " LEFT JOIN record_fingerprints f ON f.library = %s AND f.record_id = r.id"
            " WHERE r.organization IS NOT NULL AND r.{w} = %s AND (f.record_id IS NULL"
            " OR f.organization <> r.organization OR f.computed_at < r.updated_at)"
        ).format(
            b=sql.Identifier(BODY[library]), t=sql.Identifier(library), w=sql.Identifier(where)
        ),
        (library, value),
    ).fetchall()


def refresh(conn: Connection, library: str, organization: str) -> int:
    """Fingerprint the organization's records that have none or changed since theirs.

    (A record changed later in the same transaction as its fingerprint keeps the old one
    until its next change: the transaction's now() is older than the fingerprint.)"""
    rows = _stale(conn, library, "organization", organization)
    for row in rows:
        _store(conn, library, row, fingerprint_of(row["title"], row["body"]))
    return len(rows)


def find(
    conn: Connection,
    *,
    library: str,
    organization: str | None,
    title: str,
    body: str,
    exclude_external_id: str | None = None,
    exclude_id: int | None = None,
) -> list[Suspect]:
    """Records of the organization whose text is near-identical to this one, closest first."""
    if not organization or not (title or body):
        return []
    refresh(conn, library, organization)
    mine = fingerprint_of(title, body)
    rows = conn.execute(
        sql.SQL(
            "SELECT r.id, r.external_id, r.title, f.exact_key, f.signature"
            " FROM record_fingerprints f JOIN {t} r ON r.id = f.record_id"
            " WHERE f.library = %s AND r.organization = %s AND r.merged_into IS NULL"
            " AND r.external_id IS DISTINCT FROM %s AND r.id IS DISTINCT FROM %s"
            " AND (f.exact_key = %s OR f.bands && %s)"
        ).format(t=sql.Identifier(library)),
        (library, organization, exclude_external_id, exclude_id, mine.exact_key, mine.bands),
    ).fetchall()
    suspects = []
    for r in rows:
        exact = r["exact_key"] == mine.exact_key
        signature = np.array(r["signature"], dtype=np.uint64)
        score = 1.0 if exact else fp.minhash_jaccard(mine.signature, signature)
        if score >= THRESHOLD:
            suspects.append(Suspect(library, r["id"], r["external_id"], r["title"], score, exact))
    return sorted(suspects, key=lambda s: (-s.score, s.external_id))


def warning(library: str, suspects: list[Suspect]) -> str:
    """与已有需求 PRB-… 高度相似 / very similar to existing problem PRB-…"""
    zh, en = NOUN[library]
    ids = "、".join(s.external_id for s in suspects[:3])
    return f"与已有{zh} {ids} 高度相似 / very similar to existing {en} {ids.replace('、', ', ')}"


def check_import(conn: Connection, library: str, data: dict) -> list[Suspect]:
    """Suspected duplicates of an import row; raises ExactDuplicate for an exact one."""
    if library not in LIBRARIES:
        return []
    title, body = data.get("title"), data.get(BODY[library])
    if not isinstance(title, str) or not isinstance(body, str):
        return []
    organization = data.get("organization")
    suspects = find(
        conn,
        library=library,
        organization=organization if isinstance(organization, str) else None,
        title=title,
        body=body,
        exclude_external_id=str(data.get("external_id", "")).strip() or None,
    )
    exact = [s for s in suspects if s.exact]
    if exact:
        zh, en = NOUN[library]
        raise ExactDuplicate(
            f"与已有{zh} {exact[0].external_id} 完全相同，未重复创建 / exact duplicate of "
            f"{en} {exact[0].external_id}: not created again",
            field="external_id",
        )
    return suspects


def remember(conn: Connection, library: str, record_id: int, suspects: list[Suspect]) -> None:
    """Fingerprint the stored record and keep the pairs found, for the sub-center to merge or
    mark distinct."""
    if library not in LIBRARIES:
        return
    for row in _stale(conn, library, "id", record_id):
        _store(conn, library, row, fingerprint_of(row["title"], row["body"]))
    for s in suspects:
        if s.id == record_id:
            continue
        conn.execute(
            "INSERT INTO duplicate_pairs (library, record_id, other_id, score)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (library, record_id, s.id, s.score),
        )
