"""The front door's public figures and newest records, as a visitor may see them.

Every count goes through the permission module's visitor (permissions.VISITOR): problems that
passed review and are not confidential, achievements and expert profiles (an expert who signed
up has none until its sub-center approves it). Records merged into a duplicate count once.
  problems    public problems
  solved      public problems matched or closed (an expert took them on, or the case ended)
  experts     expert profiles
  achievements  achievements
  regions     regions with a sub-center
"""

from __future__ import annotations

from typing import Any

from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import AchievementRead
from greenplat.core.db import Connection, one
from greenplat.core.permissions import VISITOR, clauses, clauses_sql, problem_read_filter
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemRead

SOLVED_STATUSES = ("matched", "closed")


def figures(*, conn: Connection) -> dict[str, int]:
    """The public figures of the front door (definitions in the module docstring)."""
    public, params = problem_read_filter(VISITOR, "p")
    experts_seen, more = clauses_sql(clauses(VISITOR, "expert", "read"), "e")
    works_seen, most = clauses_sql(clauses(VISITOR, "achievement", "read"), "a")
    row = one(
        conn,
        "SELECT"
        f" (SELECT count(*) FROM problems p WHERE {public} AND p.merged_into IS NULL) AS problems,"
        f" (SELECT count(*) FROM problems p WHERE {public} AND p.merged_into IS NULL"
        "   AND p.status = ANY(%s)) AS solved,"
        f" (SELECT count(*) FROM experts e WHERE {experts_seen}) AS experts,"
        f" (SELECT count(*) FROM achievements a WHERE {works_seen} AND a.merged_into IS NULL)"
        "   AS achievements,"
        " (SELECT count(*) FROM regions) AS regions",
        [*params, *params, list(SOLVED_STATUSES), *more, *most],
    )
    return {k: int(v) for k, v in row.items()}


def latest(*, conn: Connection, size: int = 5) -> dict[str, Any]:
    """The newest public problems and achievements."""
    newest_problems: list[ProblemRead] = problems.list(
        conn=conn, principal=VISITOR, page_size=size
    ).items
    newest_works: list[AchievementRead] = achievements.list(
        conn=conn, principal=VISITOR, page_size=size
    ).items
    return {"problems": newest_problems, "achievements": newest_works}
