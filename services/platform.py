"""The composition root: settings, database, indexer and matcher of one running platform."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from greenplat.core.db import Database, open_database
from greenplat.core.settings import Settings

if TYPE_CHECKING:
    from greenplat.core.interchange.tasks import ImportRunner
    from greenplat.indexer.service import Indexer
    from greenplat.matcher.service import Matcher


class Platform:
    """What a process (API, worker, CLI command) needs; heavy parts load on first use."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    @cached_property
    def indexer(self) -> Indexer:
        from greenplat.indexer.service import Indexer

        return Indexer(self.settings, self.db)

    @cached_property
    def matcher(self) -> Matcher:
        from greenplat.matcher.service import Matcher

        return Matcher(self.indexer)

    @cached_property
    def imports(self) -> ImportRunner:
        from greenplat.core.interchange.tasks import ImportRunner

        return ImportRunner(self.settings, self.db)

    def close(self) -> None:
        """Release the database pool (and with it the embedded server, if last)."""
        if "indexer" in self.__dict__:
            self.indexer.close()
        self.db.close()


def open_platform(settings: Settings) -> Platform:
    """Open the configured database (migrating it) and wrap it in a Platform."""
    return Platform(settings, open_database(settings))
