"""The platform admin's pages: regions and sub-centers, users and roles, bulk import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from greenplat.api.deps import Conn
from greenplat.api.uploads import start_import
from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import UserCreate, UserUpdate
from greenplat.core.db import Connection
from greenplat.core.errors import DomainError, InvalidInput
from greenplat.core.experts import service as experts
from greenplat.core.interchange import jobs
from greenplat.core.permissions import ROLES, Principal
from greenplat.core.regions import service as regions
from greenplat.core.regions.models import RegionCreate, RegionUpdate

from ..deps import Viewer, WebRoute, form_of, redirect, signed_in
from ..errors import inline, on_form
from ..forms import checkbox, only, parse
from ..render import render
from .imports import PostedForm

router = APIRouter(route_class=WebRoute)
USER_FIELDS = ("username", "password", "role", "display_name", "region", "organization")


def _regions_page(
    v: Viewer, values: dict, errors: dict, status: int = 200, row: dict | None = None
) -> Response:
    me = v.require("region", "manage")
    with v.transaction() as conn:
        rows = regions.list_regions(conn=conn)
        admins = accounts.list_users(
            conn=conn, principal=me, role="subcenter_admin", page_size=100
        ).items
    by_region: dict[str, list[str]] = {}
    for user in admins:
        by_region.setdefault(user.region or "", []).append(user.username)
    return render(
        v,
        "admin/regions.html",
        status=status,
        regions=rows,
        admins=by_region,
        values=values,
        errors=errors,
        row=row or {},
    )


@router.get("/admin/regions", include_in_schema=False)
def list_regions(v: Viewer = Depends(signed_in)) -> Response:
    return _regions_page(v, {}, {})


@router.post("/admin/regions", include_in_schema=False)
async def create_region(v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("region", "manage")
    data = await form_of(v)
    values = only(data, ("code", "name", "subcenter_name"))
    parsed, errors = parse(RegionCreate, values, v.t)
    if parsed is None:
        return _regions_page(v, values, errors, status=422)
    try:
        with v.transaction() as conn:
            regions.create_region(conn=conn, principal=me, data=parsed)
    except DomainError as error:
        if not on_form(error):
            raise
        return _regions_page(v, values, inline(error, v.t), status=error.status)
    return redirect("/admin/regions?ok=flash.region_created")


@router.post("/admin/regions/{region_id}", include_in_schema=False)
async def update_region(region_id: int, v: Viewer = Depends(signed_in)) -> Response:
    me = v.require("region", "manage")
    data = await form_of(v)
    typed = only(data, ("name", "subcenter_name"))
    parsed, errors = parse(RegionUpdate, typed, v.t)
    try:
        if parsed is not None:
            with v.transaction() as conn:
                regions.update_region(conn=conn, principal=me, region_id=region_id, data=parsed)
    except DomainError as error:
        if not on_form(error):
            raise
        errors = inline(error, v.t)
    if errors:
        # The row's form shows the message, with what was typed, above the create form.
        row = {"id": region_id, "values": typed, "errors": errors}
        return _regions_page(v, {}, {}, status=422, row=row)
    return redirect("/admin/regions?ok=flash.region_saved")


def _users_page(
    v: Viewer, *, role: str | None, region: str | None, values: dict, errors: dict, status=200
) -> Response:
    me = v.require("user", "manage")
    with v.transaction() as conn:
        page = accounts.list_users(
            conn=conn, principal=me, role=role or None, region=region or None, page_size=100
        )
        region_list = regions.list_regions(conn=conn)
    return render(
        v,
        "admin/users.html",
        status=status,
        page=page,
        roles=ROLES,
        regions=region_list,
        role=role or "",
        region=region or "",
        values=values,
        errors=errors,
    )


@router.get("/admin/users", include_in_schema=False)
def list_users(
    v: Viewer = Depends(signed_in), role: str | None = None, region: str | None = None
) -> Response:
    return _users_page(v, role=role, region=region, values={}, errors={})


def _expert_id(conn, me: Principal, external_id: str | None) -> int | None:
    if not external_id:
        return None
    expert = experts.get_by_external_id(conn=conn, principal=me, external_id=external_id)
    if expert is None:
        raise InvalidInput(
            f"专家编号 {external_id} 不存在 / unknown expert", field="expert_external_id"
        )
    return expert.id


@router.post("/admin/users", include_in_schema=False)
async def create_user(v: Viewer = Depends(signed_in)) -> Response:
    """Create an account with its role (and region, organization or expert profile)."""
    me = v.require("user", "manage")
    data = await form_of(v)
    values = only(data, USER_FIELDS)
    parsed, errors = parse(UserCreate, values, v.t)
    if parsed is not None:
        try:
            with v.transaction() as conn:
                expert_id = _expert_id(conn, me, str(data.get("expert_external_id") or "").strip())
                accounts.create_user(
                    conn=conn, **parsed.model_dump(exclude={"expert_id"}), expert_id=expert_id
                )
        except DomainError as error:
            if not on_form(error):
                raise
            errors = inline(error, v.t)
    if errors:
        values["expert_external_id"] = data.get("expert_external_id", "")
        return _users_page(v, role=None, region=None, values=values, errors=errors, status=422)
    return redirect("/admin/users?ok=flash.user_created")


@router.post("/admin/users/{user_id}", include_in_schema=False)
async def update_user(user_id: int, v: Viewer = Depends(signed_in)) -> Response:
    """Change an account's role, region or organization, or switch it off."""
    me = v.require("user", "manage")
    data = await form_of(v)
    changes: dict[str, Any] = only(data, ("role", "region", "organization"))
    changes["active"] = checkbox(data, "active")
    parsed, errors = parse(UserUpdate, changes, v.t)
    if parsed is None:
        raise InvalidInput(next(iter(errors.values())), field=next(iter(errors)))
    with v.transaction() as conn:
        current = accounts.get_user_or_raise(conn=conn, user_id=user_id)
        weighty = accounts.hard_to_undo(current, parsed)
        if weighty and data.get("confirmed") != "1":
            # Nothing changes yet: the admin sees old -> new and confirms (or goes back).
            return render(
                v, "admin/user_confirm.html", user=current, weighty=weighty, values=changes
            )
        accounts.update_user(conn=conn, principal=me, user_id=user_id, data=parsed)
    return redirect("/admin/users?ok=flash.user_saved")


def _import_page(
    v: Viewer, conn: Connection, library: str, errors: dict[str, str], status: int = 200
) -> Response:
    recent = jobs.list_recent(conn=conn, principal=v.me)
    return render(
        v, "admin/import.html", status=status, library=library, errors=errors, recent=recent
    )


@router.get("/admin/import", include_in_schema=False)
def import_page(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The import form, and the viewer's latest import jobs."""
    v.require("import", "run")
    return _import_page(v, conn, "problems", {})


@router.post("/admin/import", include_in_schema=False)
async def run_import(data: PostedForm, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """Queue the import of a file into a library; its page follows the job."""
    me = v.require("import", "run")
    library = str(data.get("library") or "")
    try:
        # Spooling and checking the file are blocking work: off the event loop.
        job = await run_in_threadpool(
            start_import,
            conn=conn,
            platform=v.platform,
            principal=me,
            library=library,
            mode="library",
            upload=data.get("file"),
        )
    except InvalidInput as error:
        errors = inline(error, v.t)
        return await run_in_threadpool(_import_page, v, conn, library, errors, 422)
    return redirect(f"/imports/{job.id}")
