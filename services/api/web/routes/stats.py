"""Statistics dashboards (a region; all regions side by side), drill-down and export."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from greenplat.api.deps import Conn
from greenplat.core import sheets
from greenplat.core.audit import service as audit
from greenplat.core.errors import InvalidInput
from greenplat.core.permissions import covers_all
from greenplat.core.regions import service as regions
from greenplat.core.stats import service as stats

from .. import charts
from ..deps import Viewer, WebRoute, signed_in
from ..errors import inline
from ..render import render

router = APIRouter(route_class=WebRoute)
EXPORT_COLUMNS = (
    "external_id",
    "title",
    "organization",
    "region",
    "industry",
    "month",
    "status",
    "approved",
    "matched",
    "responded",
    "deals",
    "deal_value",
    "days_to_deal",
    "hours_to_answer",
)
_DEAL_FIGURES = ("deal_value", "median_days_to_deal")


class Period(TypedDict):
    """The dates a dashboard covers (None: open-ended)."""

    since: date | None
    until: date | None


class RecordFilters(Period):
    """Which problems a drill-down lists: the figure, its region, industry, month and period."""

    metric: str
    region: str | None
    industry: str | None
    month: str | None


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = f"日期格式应为 YYYY-MM-DD / {field} must be YYYY-MM-DD"
        params = {"field": field, "reason": "valid.date"}
        raise InvalidInput(message, field=field, key="error.invalid_value", params=params) from None


def _period(since: str | None, until: str | None) -> Period:
    return {"since": _date(since, "since"), "until": _date(until, "until")}


def _charts(v: Viewer, by_industry: list, by_month: list, by_discipline: list) -> dict[str, Any]:
    t = v.t
    months = [r["key"] for r in by_month]
    table = t("chart.table_view")
    return {
        "industry": charts.hbar(
            [(r["key"], r["posted"]) for r in by_industry[:12]],
            title=t("stats.by_industry"),
            header=(t("field.industry"), t("stats.posted")),
            summary=table,
        ),
        "month": charts.columns(
            months,
            [
                (t("stats.posted"), [r["posted"] for r in by_month]),
                (t("stats.approved"), [r["approved"] for r in by_month]),
                (t("stats.matched"), [r["matched"] for r in by_month]),
                (t("stats.deals"), [r["deals"] for r in by_month]),
            ],
            title=t("stats.by_month"),
            ticks=charts.month_ticks(months),
            header=t("chart.month"),
            summary=table,
        ),
        "deal_value": charts.columns(
            months,
            [(t("stats.deal_value"), [r["deal_value"] for r in by_month])],
            title=t("stats.deal_value_by_month"),
            ticks=charts.month_ticks(months),
            header=t("chart.month"),
            summary=table,
        ),
        "discipline": charts.hbar(
            [(r["key"], r["matched"]) for r in by_discipline[:12]],
            title=t("stats.by_discipline"),
            header=(t("field.discipline"), t("stats.matched")),
            summary=table,
        ),
    }


@router.get("/stats", include_in_schema=False)
def dashboard(
    v: Viewer = Depends(signed_in),
    region: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """One region's dashboard: headline figures, breakdowns, charts, links to the records."""
    me = v.require("stats", "read")
    errors: dict[str, str] = {}
    try:
        period = _period(since, until)
        stats.check_period(**period)
    except InvalidInput as error:
        # A period the figures cannot have: all-time figures, the message at the dates.
        errors, period = inline(error, v.t), {"since": None, "until": None}
    with v.transaction() as conn:
        shown = stats.region_in_reach(me, region)
        figures = stats.summary(conn=conn, principal=me, region=shown, **period)
        by_industry, by_month, by_discipline = (
            stats.breakdown(conn=conn, principal=me, by=by, region=shown, **period)
            for by in ("industry", "month", "discipline")
        )
        region_list = regions.list_regions(conn=conn) if covers_all(me, "stats", "read") else []
    kept = () if errors else (("since", since), ("until", until))
    query = {k: val for k, val in (("region", shown), *kept) if val}
    return render(
        v,
        "stats/dashboard.html",
        status=422 if errors else 200,
        region=shown,
        since=since or "",
        until=until or "",
        figures=figures,
        by_industry=by_industry,
        by_month=by_month,
        by_discipline=by_discipline,
        charts=_charts(v, by_industry, by_month, by_discipline),
        regions=region_list,
        query=urlencode(query),
        errors=errors,
    )


def _records(
    v: Viewer, conn: Conn, params: dict[str, str]
) -> tuple[list[dict[str, Any]], RecordFilters]:
    me = v.require("stats", "read")
    period = _period(params.get("since"), params.get("until"))
    filters: RecordFilters = {
        "metric": params.get("metric") or "posted",
        "region": stats.region_in_reach(me, params.get("region") or None),
        "industry": params.get("industry") or None,
        "month": params.get("month") or None,
        **period,
    }
    rows = stats.records(conn=conn, principal=me, **filters)
    return rows, filters


@router.get("/stats/records", include_in_schema=False)
def drill_down(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The problems behind one figure."""
    rows, filters = _records(v, conn, dict(v.request.query_params))
    query = urlencode({k: str(val) for k, val in filters.items() if val})
    return render(v, "stats/records.html", rows=rows, filters=filters, query=query)


def _records_sheet(v: Viewer, rows: list[dict[str, Any]]) -> sheets.Sheet:
    # Users see the external id only, status names instead of codes, 是/否 for flags.
    body = []
    for row in rows:
        line = {**row, "status": v.t(f"status.{row['status']}")}
        hours = row["hours_to_answer"]
        line["hours_to_answer"] = None if hours is None else round(float(hours), 1)
        line["deal_value"] = float(row["deal_value"])  # 万元
        body.append([line[c] for c in EXPORT_COLUMNS])
    header = [v.t(f"export.{c}") for c in EXPORT_COLUMNS]
    return sheets.Sheet(v.t("stats.sheet_records"), header, body)


def _breakdown_sheet(v: Viewer, conn: Conn, by: str, filters: RecordFilters) -> sheets.Sheet:
    rows = stats.breakdown(
        conn=conn,
        principal=v.me,
        by=by,
        region=filters["region"],
        since=filters["since"],
        until=filters["until"],
    )
    figures = (*stats.METRICS, *_DEAL_FIGURES)
    header = [v.t(f"export.{by}"), *(v.t(f"stats.{m}") for m in figures)]
    body = [[r["key"], *(r[m] for m in figures)] for r in rows]
    return sheets.Sheet(v.t(f"stats.by_{by}"), header, body)


def _export(v: Viewer, conn: Conn, filters: RecordFilters, rows: int, suffix: str) -> str:
    """Log the export and name its file: 江苏省-统计-2026-12-01.xlsx."""
    region = filters["region"]
    audit.record(conn, actor=v.me, action="export", library="stats", region=region, rows=rows)
    what = region or v.t("stats.all_regions")
    return sheets.file_name(what, v.t("stats.file_word"), day=date.today(), suffix=suffix)


@router.get("/stats/export.csv", include_in_schema=False)
def export_csv(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The drill-down records as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    rows, filters = _records(v, conn, dict(v.request.query_params))
    name = _export(v, conn, filters, len(rows), ".csv")
    return Response(
        sheets.csv_text(_records_sheet(v, rows), v.lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": sheets.content_disposition(name)},
    )


@router.get("/stats/export.xlsx", include_in_schema=False)
def export_xlsx(conn: Conn, v: Viewer = Depends(signed_in)) -> Response:
    """The drill-down records, and the summary by industry, month and discipline, as XLSX."""
    rows, filters = _records(v, conn, dict(v.request.query_params))
    parts = [_records_sheet(v, rows)]
    parts += [_breakdown_sheet(v, conn, by, filters) for by in stats.BREAKDOWNS]
    name = _export(v, conn, filters, len(rows), ".xlsx")
    return Response(
        sheets.xlsx_bytes(parts, v.lang),
        media_type=sheets.XLSX,
        headers={"Content-Disposition": sheets.content_disposition(name)},
    )


@router.get("/admin/dashboard", include_in_schema=False)
def all_regions(
    v: Viewer = Depends(signed_in), since: str | None = None, until: str | None = None
) -> Response:
    """Every region side by side (platform admins)."""
    me = v.require("region", "manage")
    period = _period(since, until)
    with v.transaction() as conn:
        rows = stats.by_region(conn=conn, principal=me, **period)
        total = stats.summary(conn=conn, principal=me, **period)
    t = v.t
    chart = charts.columns(
        [r["key"] for r in rows],
        [
            (t("stats.posted"), [r["posted"] for r in rows]),
            (t("stats.approved"), [r["approved"] for r in rows]),
            (t("stats.matched"), [r["matched"] for r in rows]),
            (t("stats.deals"), [r["deals"] for r in rows]),
        ],
        title=t("stats.by_region"),
        header=t("field.region"),
        summary=t("chart.table_view"),
    )
    rate = charts.hbar(
        [(r["key"], round((r["response_rate"] or 0) * 100)) for r in rows],
        title=t("stats.response_rate"),
        unit="%",
        header=(t("field.region"), t("stats.response_rate")),
        summary=t("chart.table_view"),
    )
    return render(
        v,
        "stats/regions.html",
        rows=rows,
        total=total,
        chart=chart,
        rate=rate,
        since=since or "",
        until=until or "",
    )
