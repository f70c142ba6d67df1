"""An import job's page: its progress (polled by /static/app.js) and its paged report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core.interchange import jobs, reports
from greenplat.core.sheets import content_disposition as disposition

from ..deps import Viewer, WebRoute, form_of, signed_in
from ..render import render

router = APIRouter(route_class=WebRoute)
REPORT_PAGE_SIZE = 100


async def _read_body(request: Request) -> None:
    # Starlette keeps the parsed form on the request: form_of reads it again for free.
    await request.form()


async def posted_form(
    _: None = Depends(_read_body), v: Viewer = Depends(signed_in)
) -> dict[str, Any]:
    """The posted form, CSRF checked. The body is read before the viewer takes the request's
    connection, so a slow upload holds no pooled connection."""
    return await form_of(v)


PostedForm = Annotated[dict[str, Any], Depends(posted_form)]


@router.get("/imports/{job_id}", include_in_schema=False)
def show_job(
    job_id: int,
    conn: Conn,
    v: Viewer = Depends(signed_in),
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The job's progress and, once it has finished, one page of its rejected rows."""
    job = jobs.get_or_raise(conn=conn, principal=v.me, job_id=job_id)
    report = jobs.rejections(
        conn=conn, principal=v.me, job_id=job_id, page=page, page_size=REPORT_PAGE_SIZE
    )
    pages = max(1, -(-report.total // REPORT_PAGE_SIZE))
    noticed = jobs.notes(conn=conn, principal=v.me, job_id=job_id)
    return render(
        v,
        "imports/job.html",
        job=job,
        report=report,
        pages=pages,
        mapped=noticed["mapped"],
        unknown=noticed["unknown"],
        duplicates=noticed["duplicates"],
    )


@router.get("/imports/{job_id}/status", include_in_schema=False)
def job_status(job_id: int, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The progress part of the page alone, for the page to poll."""
    job = jobs.get_or_raise(conn=conn, principal=v.me, job_id=job_id)
    return render(v, "imports/_status.html", job=job)


def _download(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": disposition(name)})


@router.get("/imports/templates/{library}.{fmt}", include_in_schema=False)
def template(library: str, fmt: str, v: Viewer = Depends(signed_in)) -> Response:
    """An empty import file of the library with the contract's columns (XLSX: and a guide)."""
    body, media = reports.as_file(reports.template_sheets(library, v.lang), fmt, v.lang)
    return _download(body, media, f"{v.t('library.' + library)}-{v.t('import.template')}.{fmt}")


@router.get("/imports/{job_id}/report.{fmt}", include_in_schema=False)
def report(job_id: int, fmt: str, conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The job's rejected rows with the reasons in the reader's language, as CSV or XLSX."""
    job = jobs.get_or_raise(conn=conn, principal=v.me, job_id=job_id)
    rows = jobs.iter_rejections(conn=conn, principal=v.me, job_id=job_id)
    sheet = reports.report_sheet(job.library, rows, v.lang)
    body, media = reports.as_file([sheet], fmt, v.lang)
    name = f"{v.t('import.job', id=job_id)}-{v.t('import.error_report')}.{fmt}"
    return _download(body, media, name)
