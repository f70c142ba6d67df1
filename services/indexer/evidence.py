"""What matches score experts by, kept in a process's memory until it changes.

A match reads the works of a few hundred candidate experts and the vectors of their works and
profiles; from memory, that is one matrix product instead of two statements (docs/
evaluation.md, tenth round). The database says what to forget: each transaction that changes
works (authors, titles, disciplines, years, status) or their vectors takes the next evidence
version at commit and notes the records it changed (migration 0440); a process that sees the
version move forgets those records, and a transaction that changed them itself reads around
the memory until it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from greenplat.core.db import Connection

# The libraries whose stored vectors score experts (their works and profiles): kept here,
# and watched by migration 0440's triggers on the search backend's vector tables.
EVIDENCE_LIBRARIES = ("achievements", "experts")
VectorLoader = Callable[[list[int]], dict[int, np.ndarray]]
# More changes than this between two versions a process saw: it starts afresh instead (a
# transaction noting more says "everything" in one note: migration 0440).
MAX_CHANGES = 50_000
_ABSENT: Any = object()


class Generation:
    """What is kept from one database: works by author and vectors by record, as of
    `version`. Whatever is loaded while the version moves on is not kept."""

    def __init__(self, epoch: str, version: int, max_vectors: int) -> None:
        self.epoch = epoch
        self.version = version
        self.max_vectors = max_vectors
        self.works: dict[str, list[Any]] = {}
        # (library, model) -> record id -> its vector (None: none is stored)
        self.vectors: dict[tuple[str, str], dict[int, np.ndarray | None]] = {}
        self.kept = 0
        self._lock = threading.Lock()

    def works_of(
        self, authors: Iterable[str], load: Callable[[list[str]], dict[str, list[Any]]]
    ) -> dict[str, list[Any]]:
        """The works of each author (external id), those not kept loaded by `load`."""
        version = self.version
        # One look per author: another thread may forget entries meanwhile.
        found = {a: self.works.get(a) for a in authors}
        missing = [a for a, works in found.items() if works is None]
        if missing:
            loaded = load(missing)
            self.keep_works(loaded, version)
            found.update(loaded)
        return found  # type: ignore[return-value]

    def keep_works(self, works: dict[str, list[Any]], version: int) -> None:
        """Keep these authors' works, loaded at `version`, unless it has moved on since."""
        with self._lock:
            if self.version == version:
                self.works.update(works)

    def keep(
        self,
        library: str,
        model: str,
        ids: list[int],
        vectors: dict[int, np.ndarray],
        version: int,
    ) -> bool:
        """Keep these records' vectors (a record absent from `vectors` has none), loaded at
        `version`; False, keeping nothing, past the size limit or when the version has moved
        on since."""
        with self._lock:
            if version != self.version or self.kept + len(ids) > self.max_vectors:
                return False
            kept = self.vectors.setdefault((library, model), {})
            self.kept += sum(1 for i in ids if i not in kept)
            kept.update((i, vectors.get(i)) for i in ids)
            return True

    def cosines(
        self, library: str, model: str, ids: list[int], query: np.ndarray, load: VectorLoader
    ) -> dict[int, float]:
        """Cosine of each record's stored vector with the query (records without one left
        out), as the search backend computes it; vectors not kept loaded by `load`."""
        version = self.version
        kept = self.vectors.get((library, model), {})
        # One look per record: another thread may forget entries meanwhile.
        found = {i: kept.get(i, _ABSENT) for i in ids}
        missing = [i for i, v in found.items() if v is _ABSENT]
        if missing:
            loaded = load(missing)
            self.keep(library, model, missing, loaded, version)
            found.update((i, loaded.get(i)) for i in missing)
        vectors = [(i, v) for i, v in found.items() if v is not None]
        if not vectors:
            return {}
        matrix = np.array([v for _, v in vectors])  # (np.stack takes three times as long)
        norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(query))
        cosines = (matrix @ np.asarray(query, dtype=matrix.dtype)) / np.maximum(norms, 1e-12)
        return dict(zip([i for i, _ in vectors], cosines.tolist(), strict=True))

    def forget(self, changes: list[dict], version: int) -> None:
        """Drop what these noted changes touched, and move on to `version`."""
        with self._lock:
            for change in changes:
                for author in change["authors"]:
                    self.works.pop(author, None)
                for (library, _), kept in self.vectors.items():
                    if library != change["library"]:
                        continue
                    if kept.pop(change["record_id"], _ABSENT) is not _ABSENT:
                        self.kept -= 1
            self.version = version


class EvidenceCache:
    """One process's evidence memory, kept in step with the database's evidence version."""

    def __init__(self, max_vectors: int) -> None:
        self.max_vectors = max_vectors
        self._current: Generation | None = None
        self._lock = threading.Lock()

    def generation(self, conn: Connection) -> Generation | None:
        """What this transaction may read from memory; None when it changed evidence itself
        (it must read its own changes, which no other transaction may see yet)."""
        row = conn.execute(
            "SELECT epoch::text, version,"
            " coalesce(current_setting('greenplat.evidence_dirty', true), '') = 'on' AS dirty"
            " FROM evidence_version"
        ).fetchone()
        if row is None or row["dirty"]:
            return None
        epoch, version = row["epoch"], row["version"]
        with self._lock:
            current = self._current
            if (
                current is None
                or current.epoch != epoch
                or (version > current.version and not self._caught_up(conn, current, version))
            ):
                current = self._current = Generation(epoch, version, self.max_vectors)
            if version == current.version:
                return current
        # A snapshot older than what is kept: read through, keep nothing.
        return Generation(epoch, version, 0)

    @staticmethod
    def _caught_up(conn: Connection, current: Generation, version: int) -> bool:
        """Forget what changed since the kept version; False when that is not known (the
        notes are gone, a library was emptied) or too much to forget one by one."""
        if version - current.version > MAX_CHANGES:
            return False
        changes = conn.execute(
            "SELECT version, library, record_id, authors FROM evidence_changes"
            " WHERE version > %s AND version <= %s LIMIT %s",
            (current.version, version, MAX_CHANGES + 1),
        ).fetchall()
        seen = {c["version"] for c in changes}
        if (
            len(changes) > MAX_CHANGES
            or len(seen) != version - current.version
            or any(c["record_id"] is None for c in changes)
        ):
            return False
        current.forget(changes, version)
        return True
