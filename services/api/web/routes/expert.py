"""The expert's pages: profile and disciplines, achievements (add one, import a list)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from greenplat.api.deps import Conn
from greenplat.api.uploads import start_import
from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import ACHIEVEMENT_KINDS, AchievementCreate
from greenplat.core.errors import InvalidInput, NotFound
from greenplat.core.experts import service as experts
from greenplat.core.experts.models import ExpertUpdate
from greenplat.core.permissions import Principal, owns
from greenplat.core.reference import service as reference
from greenplat.core.regions import service as regions

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline
from ..forms import only, parse
from ..render import render
from .imports import PostedForm

router = APIRouter(route_class=WebRoute)
PROFILE_FIELDS = (
    "name",
    "organization",
    "title",
    "disciplines",
    "keywords",
    "bio",
    "region",
    "capacity",
)
ACHIEVEMENT_FIELDS = ("title", "abstract", "keywords", "kind", "discipline", "year", "organization")


def _expert_id(me: Principal) -> int:
    if me.expert_id is None:
        raise NotFound("你的账号未关联专家档案 / your account has no expert profile")
    return me.expert_id


def _profile_page(v: Viewer, values: dict, errors: dict, status: int = 200) -> Response:
    with v.transaction() as conn:
        region_list = regions.list_regions(conn=conn)
        disciplines = reference.choices(conn=conn, kind="discipline")
    chosen = values.get("disciplines") or []
    values = {**values, "disciplines": [chosen] if isinstance(chosen, str) else chosen}
    return render(
        v,
        "expert/profile.html",
        status=status,
        values=values,
        errors=errors,
        regions=region_list,
        disciplines=disciplines,
    )


@router.get("/expert/profile", include_in_schema=False)
def profile(v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("expert", "inbox")
    with v.transaction() as conn:
        expert = experts.get_or_raise(conn=conn, principal=me, expert_id=_expert_id(me))
    values: dict[str, Any] = expert.model_dump()
    values["keywords"] = "；".join(expert.keywords)
    values = {k: ("" if val is None else val) for k, val in values.items()}
    return _profile_page(v, values, {})


@router.post("/expert/profile", include_in_schema=False)
async def save_profile(v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("expert", "inbox")
    data = await form_of(v)
    values = only(data, PROFILE_FIELDS)
    values.setdefault("disciplines", [])
    update, errors = parse(ExpertUpdate, values, v.t)
    if update is None:
        return _profile_page(v, values, errors, status=422)
    try:
        with v.transaction() as conn:
            experts.update(conn=conn, principal=me, expert_id=_expert_id(me), data=update)
    except InvalidInput as error:
        return _profile_page(v, values, inline(error, v.t), status=422)
    return redirect("/expert/profile?ok=flash.profile_saved")


def _achievements_page(
    v: Viewer,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    me = v.require("expert", "inbox")
    mine = me.expert_external_id or "\x00"
    with v.transaction() as conn:
        page = achievements.list(
            conn=conn, principal=me, expert_id=mine, page_size=100, sort="-year"
        )
        withdrawn = achievements.list(
            conn=conn, principal=me, expert_id=mine, page_size=100, withdrawn=True
        )
        disciplines = reference.choices(conn=conn, kind="discipline")
    return render(
        v,
        "expert/achievements.html",
        status=status,
        page=page,
        withdrawn=withdrawn,
        values=values or {},
        errors=errors or {},
        kinds=ACHIEVEMENT_KINDS,
        disciplines=disciplines,
    )


@router.get("/expert/achievements", include_in_schema=False)
def my_achievements(v: Viewer = Depends(signed_in)) -> Response:
    return _achievements_page(v)


@router.post("/expert/achievements", include_in_schema=False)
async def add_achievement(v: Viewer = Depends(signed_in)) -> Response:
    """Add one achievement; the expert is always among its experts."""
    me = v.require("achievement", "create")
    data = await form_of(v)
    values = only(data, ACHIEVEMENT_FIELDS)
    parsed, errors = parse(AchievementCreate, values, v.t)
    if parsed is None:
        return _achievements_page(v, values=values, errors=errors, status=422)
    try:
        with v.transaction() as conn:
            achievements.create(conn=conn, principal=me, data=parsed)
    except InvalidInput as error:
        errors = inline(error, v.t)
        return _achievements_page(v, values=values, errors=errors, status=422)
    return redirect("/expert/achievements?ok=flash.achievement_added")


@router.post("/expert/achievements/import", include_in_schema=False)
async def import_achievements(
    data: PostedForm, conn: Conn, v: Viewer = Depends(signed_in)
) -> Response:
    """Queue the import of the expert's own achievements; its page follows the job."""
    me = v.require("achievement", "create")
    # Spooling and checking the file are blocking work: off the event loop.
    job = await run_in_threadpool(
        start_import,
        conn=conn,
        platform=v.platform,
        principal=me,
        library="achievements",
        mode="own_achievements",
        upload=data.get("file"),
    )
    return redirect(f"/imports/{job.id}")


@router.get("/experts/{external_id}", include_in_schema=False)
def show_expert(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """An expert's public profile with their achievements."""
    me = v.me
    with v.transaction() as conn:
        expert = experts.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
        works = achievements.list(
            conn=conn, principal=me, expert_id=expert.external_id, page_size=50, sort="-year"
        )
        withdrawn = achievements.list(
            conn=conn, principal=me, expert_id=expert.external_id, page_size=50, withdrawn=True
        )
    own = owns(me, "expert", expert.model_dump())
    return render(v, "expert/show.html", expert=expert, works=works, withdrawn=withdrawn, own=own)


@router.get("/achievements/{external_id}", include_in_schema=False)
def show_achievement(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """One achievement with its experts."""
    me = v.me
    with v.transaction() as conn:
        work = achievements.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        )
        authors = [
            e
            for ext in work.expert_ids
            if (e := experts.get_by_external_id(conn=conn, principal=me, external_id=ext))
        ]
        manages = achievements.manages(conn=conn, principal=me, record=work.model_dump())
    return render(v, "expert/achievement.html", work=work, authors=authors, manages=manages)
