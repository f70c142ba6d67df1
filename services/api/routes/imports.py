"""Imports (导入) as jobs: upload a file (202 with the job), follow it, page its report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status

from greenplat.api.deps import Conn, CurrentPrincipal, PlatformDep
from greenplat.api.uploads import start_import as queue_import
from greenplat.core.interchange import jobs, reports
from greenplat.core.interchange.models import ImportJobRead, RejectedRowPage
from greenplat.core.sheets import XLSX
from greenplat.core.sheets import content_disposition as disposition

router = APIRouter(prefix="/v1/imports", tags=["imports 导入"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such job, or not yours"}}


@router.post(
    "",
    response_model=ImportJobRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        403: {"description": "The role may not import"},
        413: {"description": "The file is larger than the body limit"},
        422: {"description": "Unknown library, or a file that cannot be read within the caps"},
    },
)
def start_import(
    principal: CurrentPrincipal,
    conn: Conn,
    platform: PlatformDep,
    library: Annotated[str, Form(max_length=50, description="problems, achievements, experts")],
    file: Annotated[UploadFile, File(description=".jsonl, .csv or .xlsx")],
) -> ImportJobRead:
    """Check the file and queue its import; poll GET /v1/imports/{id} for progress."""
    return queue_import(
        conn=conn,
        platform=platform,
        principal=principal,
        library=library,
        mode="library",
        upload=file,
    )


@router.get("/{job_id}", response_model=ImportJobRead, responses=NOT_FOUND)
def get_import(job_id: JobId, principal: CurrentPrincipal, conn: Conn) -> ImportJobRead:
    """An import job's status and counts (rows read, created, updated, rejected)."""
    return jobs.get_or_raise(conn=conn, principal=principal, job_id=job_id)


@router.get("/{job_id}/rejections", response_model=RejectedRowPage, responses=NOT_FOUND)
def list_rejections(
    job_id: JobId,
    principal: CurrentPrincipal,
    conn: Conn,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> RejectedRowPage:
    """One page of the rows the import rejected, each with its line and reason."""
    return jobs.rejections(
        conn=conn, principal=principal, job_id=job_id, page=page, page_size=page_size
    )


Lang = Annotated[Literal["zh-CN", "en"], Query(description="language of labels and reasons")]
Format = Annotated[Literal["csv", "xlsx"], Path(description="csv or xlsx")]


FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, as an attachment",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _download(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": disposition(name)})


@router.get(
    "/templates/{library}.{fmt}",
    response_class=Response,
    responses={**FILE, 422: {"description": "Unknown library"}},
)
def import_template(
    library: Annotated[str, Path(max_length=50)],
    fmt: Format,
    principal: CurrentPrincipal,
    lang: Lang = "zh-CN",
) -> Response:
    """An empty import file of the library: the contract's columns (XLSX adds a guide)."""
    body, media = reports.as_file(reports.template_sheets(library, lang), fmt, lang)
    return _download(body, media, f"{library}-template.{fmt}")


@router.get("/{job_id}/report.{fmt}", response_class=Response, responses={**FILE, **NOT_FOUND})
def rejections_report(
    job_id: JobId, fmt: Format, principal: CurrentPrincipal, conn: Conn, lang: Lang = "zh-CN"
) -> Response:
    """Every rejected row: row number, field, reason in the language asked, values as given."""
    job = jobs.get_or_raise(conn=conn, principal=principal, job_id=job_id)
    rows = jobs.iter_rejections(conn=conn, principal=principal, job_id=job_id)
    sheet = reports.report_sheet(job.library, rows, lang)
    body, media = reports.as_file([sheet], fmt, lang)
    return _download(body, media, f"import-{job_id}-rejected.{fmt}")
