"""Search across the three libraries with filters: accounts see what they may read, visitors
who have not signed in what the permission module's visitor may (public records only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import ACHIEVEMENT_KINDS, AchievementPage
from greenplat.core.errors import InvalidInput
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertPage
from greenplat.core.permissions import VISITOR, Principal
from greenplat.core.problems import service as problems
from greenplat.core.problems.models import ProblemPage
from greenplat.core.regions import service as regions

from ..deps import Viewer, WebRoute, viewer
from ..render import render

router = APIRouter(route_class=WebRoute)
LIBRARIES = ("problems", "achievements", "experts")
MODES = ("hybrid", "lexical", "vector")
PAGE = 30
_GETTERS = {
    "problems": lambda conn, me, i: problems.get(conn=conn, principal=me, problem_id=i),
    "achievements": lambda conn, me, i: achievements.get(conn=conn, principal=me, achievement_id=i),
    "experts": lambda conn, me, i: experts.get(conn=conn, principal=me, expert_id=i),
}


def _browse(conn, me: Principal, library: str, f: dict[str, str | None]) -> list[Any]:
    """Without words: the newest records matching the filters."""
    page: ProblemPage | AchievementPage | ExpertPage
    if library == "problems":
        page = problems.list(
            conn=conn, principal=me, region=f["region"], industry=f["industry"], page_size=PAGE
        )
    elif library == "achievements":
        page = achievements.list(
            conn=conn, principal=me, discipline=f["discipline"], kind=f["kind"], page_size=PAGE
        )
    else:
        page = experts.list(
            conn=conn, principal=me, region=f["region"], discipline=f["discipline"], page_size=PAGE
        )
    return [(None, item) for item in page.items]


def _search(v: Viewer, me: Principal, library: str, q: str, f: dict[str, str | None], mode: str):
    """The matches above the relevance bar, as the records this reader may see."""
    page = v.platform.matcher.search(
        q,
        library,
        conn=v.conn,
        principal=me,
        page_size=PAGE,
        mode=mode,
        region=f["region"] if library != "achievements" else None,
        industry=f["industry"] if library == "problems" else None,
        discipline=f["discipline"] if library != "problems" else None,
        kind=f["kind"] if library == "achievements" else None,
        statuses=None,
    )
    found = []
    with v.transaction() as conn:
        for match in page.items:
            record = _GETTERS[library](conn, me, match.id)
            if record is not None:
                found.append((match, record))
    return found


@router.get("/search", include_in_schema=False)
def search(
    v: Viewer = Depends(viewer),
    q: str = "",
    library: str = "problems",
    region: str = "",
    industry: str = "",
    discipline: str = "",
    kind: str = "",
    mode: str = "hybrid",
) -> Response:
    """Words and meaning over one library at a time; filters narrow it down."""
    me = v.principal or VISITOR
    if library not in LIBRARIES:
        raise InvalidInput(f"未知的库 {library} / unknown library", field="library")
    if mode not in MODES:
        raise InvalidInput(f"未知的检索方式 {mode} / unknown mode", field="mode")
    if len(q) > 500:
        raise InvalidInput("检索词过长 / the query is too long", field="q")
    f = {
        "region": region.strip() or None,
        "industry": industry.strip() or None,
        "discipline": discipline.strip() or None,
        "kind": kind if kind in ACHIEVEMENT_KINDS else None,
    }
    if q.strip():
        results = _search(v, me, library, q.strip(), f, mode)
    else:
        with v.transaction() as conn:
            results = _browse(conn, me, library, f)
    with v.transaction() as conn:
        region_list = regions.list_regions(conn=conn)
    return render(
        v,
        "search.html",
        q=q,
        library=library,
        filters={k: val or "" for k, val in f.items()},
        mode=mode,
        results=results,
        regions=region_list,
        kinds=ACHIEVEMENT_KINDS,
        libraries=LIBRARIES,
    )
