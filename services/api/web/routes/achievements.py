"""Editing, withdrawing and restoring an achievement: its experts, its sub-center, staff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.core import links
from greenplat.core.achievements import service as achievements
from greenplat.core.achievements.models import (
    ACHIEVEMENT_KINDS,
    AchievementRead,
    AchievementUpdate,
)
from greenplat.core.errors import InvalidInput
from greenplat.core.permissions import Principal, owns
from greenplat.core.reference import service as reference

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..forms import only, parse
from ..render import render

router = APIRouter(route_class=WebRoute)
FIELDS = ("title", "abstract", "keywords", "kind", "discipline", "year", "organization")


def _after(me: Principal, work: AchievementRead, flash: str) -> Response:
    """Back to the expert's own list, or (staff) to the achievement's page."""
    if owns(me, "achievement", work.model_dump()):
        return redirect(f"/expert/achievements?ok={flash}")
    return redirect(f"/achievements/{links.segment(work.external_id)}?ok={flash}")


def _values(work: AchievementRead) -> dict[str, Any]:
    values = {name: getattr(work, name) for name in FIELDS}
    values["keywords"] = "；".join(work.keywords)
    return {k: "" if val is None else val for k, val in values.items()}


def _edit_page(
    v: Viewer, work: AchievementRead, values: dict, errors: dict, status: int = 200
) -> Response:
    with v.transaction() as conn:
        disciplines = reference.choices(conn=conn, kind="discipline")
    return render(
        v,
        "expert/edit_achievement.html",
        status=status,
        work=work,
        values=values,
        errors=errors,
        kinds=ACHIEVEMENT_KINDS,
        disciplines=disciplines,
    )


def _managed(v: Viewer, external_id: str) -> tuple[Principal, AchievementRead]:
    me = v.require("achievement", "update")
    with v.transaction() as conn:
        work = achievements.get_to_manage(conn=conn, principal=me, external_id=external_id)
    return me, work


def _id_of(v: Viewer, me: Principal, external_id: str) -> int:
    with v.transaction() as conn:
        return achievements.get_by_external_id_or_raise(
            conn=conn, principal=me, external_id=external_id
        ).id


@router.get("/achievements/{external_id}/edit", include_in_schema=False)
def edit_form(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """The achievement's fields, to change."""
    _, work = _managed(v, external_id)
    return _edit_page(v, work, _values(work), {})


@router.post("/achievements/{external_id}/edit", include_in_schema=False)
async def save(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Save the changed fields; the form comes back with the errors named per field."""
    me, work = _managed(v, external_id)
    values = only(await form_of(v), FIELDS)
    parsed, errors = parse(AchievementUpdate, values, v.t)
    if parsed is None:
        return _edit_page(v, work, values, errors, status=422)
    try:
        with v.transaction() as conn:
            work = achievements.update(conn=conn, principal=me, achievement_id=work.id, data=parsed)
    except InvalidInput as error:
        return _edit_page(v, work, values, {error.field or "form": error.message}, status=422)
    return _after(me, work, "flash.achievement_saved")


@router.post("/achievements/{external_id}/withdraw", include_in_schema=False)
async def withdraw(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Withdraw it: gone from search, matching, exports and the public pages."""
    me = v.require("achievement", "withdraw")
    await form_of(v)
    achievement_id = _id_of(v, me, external_id)
    with v.transaction() as conn:
        work = achievements.withdraw(conn=conn, principal=me, achievement_id=achievement_id)
    return _after(me, work, "flash.achievement_withdrawn")


@router.post("/achievements/{external_id}/restore", include_in_schema=False)
async def restore(external_id: str, v: Viewer = Depends(signed_in)) -> Response:
    """Publish a withdrawn achievement again."""
    me = v.require("achievement", "withdraw")
    await form_of(v)
    achievement_id = _id_of(v, me, external_id)
    with v.transaction() as conn:
        work = achievements.restore(conn=conn, principal=me, achievement_id=achievement_id)
    return _after(me, work, "flash.achievement_restored")
