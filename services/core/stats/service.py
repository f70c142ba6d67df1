"""Statistics from problems and match feedback, for sub-center and platform dashboards.

Definitions (docs/portal.md repeats them for readers of the dashboard):
  posted     problems that left the draft state (submitted, imported or later); a problem
             merged into its duplicate is not counted again
  approved   problems that passed review (approved, matched, closed)
  matched    problems with an expert interested, contacted, negotiating or a deal, or marked matched
  responded  approved problems with at least one expert's answer (interested or declined)
  response rate           responded / approved
  time to first response  median hours from approval (else posting) to the first answer
  deals      problems with at least one deal
  deal value          sum of the deals' amounts (万元; deals without an amount add nothing)
  time to deal        median days from posting to the first deal's date
"""

from __future__ import annotations

from datetime import date
from typing import Any

from greenplat.core.db import Connection, one
from greenplat.core.errors import InvalidInput
from greenplat.core.permissions import Principal, Scope, require_any

METRICS = ("posted", "approved", "matched", "responded", "deals")
BREAKDOWNS = ("industry", "month", "discipline")
ANSWERS = ("interested", "declined")
POSITIVE = ("interested", "contacted", "negotiating", "deal")
UNKNOWN = "—"

# One row per problem in reach with the facts every figure is counted from.
_FACTS = """
WITH f AS (
    SELECT problem_id,
           min(created_at) FILTER (WHERE actor_role = 'expert' AND action = ANY(%(answers)s))
               AS first_answer,
           bool_or(action = ANY(%(positive)s) AND expert_id IS NOT NULL) AS positive,
           bool_or(action = 'deal') AS deal,
           sum(amount_wan) FILTER (WHERE action = 'deal') AS deal_value,
           min(coalesce(deal_date, created_at::date)) FILTER (WHERE action = 'deal')
               AS first_deal
    FROM match_feedback GROUP BY problem_id
), facts AS (
    SELECT p.id, p.external_id, p.title, p.organization, p.region, p.status,
           coalesce(p.industry, %(unknown)s) AS industry,
           to_char(p.created_at, 'YYYY-MM') AS month,
           p.created_at,
           p.status IN ('approved', 'matched', 'closed') AS approved,
           (p.status = 'matched' OR coalesce(f.positive, false)) AS matched,
           (p.status IN ('approved', 'matched', 'closed') AND f.first_answer IS NOT NULL)
               AS responded,
           coalesce(f.deal, false) AS deals,
           coalesce(f.deal_value, 0) AS deal_value,
           f.first_deal - p.created_at::date AS days_to_deal,
           extract(epoch FROM f.first_answer - coalesce(p.approved_at, p.created_at)) / 3600.0
               AS hours_to_answer
    FROM problems p LEFT JOIN f ON f.problem_id = p.id
    WHERE p.status <> 'draft' AND p.merged_into IS NULL
      AND (%(region)s::text IS NULL OR p.region = %(region)s)
      AND (%(since)s::date IS NULL OR p.created_at >= %(since)s::date)
      AND (%(until)s::date IS NULL OR p.created_at < %(until)s::date + 1)
)
"""

_FIGURES = """
    count(*) AS posted,
    count(*) FILTER (WHERE approved) AS approved,
    count(*) FILTER (WHERE matched) AS matched,
    count(*) FILTER (WHERE responded) AS responded,
    count(*) FILTER (WHERE deals) AS deals,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_answer)
        FILTER (WHERE responded AND hours_to_answer >= 0) AS median_hours,
    coalesce(sum(deal_value), 0) AS deal_value,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_deal)
        FILTER (WHERE deals AND days_to_deal >= 0) AS median_days_to_deal
"""


# A month breakdown shows at most this many months (ten years).
MAX_MONTHS = 120
_ZERO: dict[str, Any] = {
    "posted": 0,
    "approved": 0,
    "matched": 0,
    "responded": 0,
    "deals": 0,
    "median_hours": None,
    "deal_value": 0,
    "median_days_to_deal": None,
}


def region_in_reach(principal: Principal, region: str | None) -> str | None:
    """The region the figures cover: a sub-center's own, or any (None: all) for admins."""
    scope = require_any(principal, "stats", "read")
    if Scope.ALL in scope:
        return region or None
    return principal.region


def check_period(since: date | None, until: date | None) -> None:
    """Refuse a period that ends before it starts."""
    if since and until and since > until:
        raise InvalidInput(
            "开始日期晚于结束日期 / since is after until",
            field="since",
            key="error.period_reversed",
        )


def _params(region: str | None, since: date | None, until: date | None) -> dict[str, Any]:
    check_period(since, until)
    return {
        "answers": list(ANSWERS),
        "positive": list(POSITIVE),
        "unknown": UNKNOWN,
        "region": region,
        "since": since,
        "until": until,
    }


def _with_rate(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["response_rate"] = row["responded"] / row["approved"] if row["approved"] else None
    for key in ("median_hours", "median_days_to_deal"):
        value = row.get(key)
        row[key] = None if value is None else float(value)
    row["deal_value"] = float(row.get("deal_value") or 0)
    return row


def summary(
    *,
    conn: Connection,
    principal: Principal,
    region: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """The headline figures of the region (or of all regions)."""
    params = _params(region_in_reach(principal, region), since, until)
    return _with_rate(one(conn, _FACTS + f"SELECT {_FIGURES} FROM facts", params))


def by_region(
    *,
    conn: Connection,
    principal: Principal,
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """The headline figures of every region side by side (platform admins see all)."""
    params = _params(region_in_reach(principal, None), since, until)
    rows = conn.execute(
        _FACTS + f"SELECT coalesce(region, %(unknown)s) AS key, {_FIGURES} FROM facts "
        "GROUP BY 1 ORDER BY posted DESC, key",
        params,
    ).fetchall()
    return [_with_rate(r) for r in rows]


def breakdown(
    *,
    conn: Connection,
    principal: Principal,
    by: str,
    region: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """Figures per industry, per month (of posting) or per discipline (of answering experts)."""
    if by not in BREAKDOWNS:
        raise InvalidInput(f"不支持按 {by} 分组 / cannot break down by {by}", field="by")
    params = _params(region_in_reach(principal, region), since, until)
    if by == "discipline":
        return _by_discipline(conn, params)
    order = "key" if by == "month" else "posted DESC, key"
    rows = conn.execute(
        _FACTS + f"SELECT {by} AS key, {_FIGURES} FROM facts GROUP BY 1 ORDER BY {order}",
        params,
    ).fetchall()
    found = [_with_rate(r) for r in rows]
    return _every_month(found, since, until) if by == "month" else found


def _month_index(key: str) -> int:
    year, month = key.split("-")
    return int(year) * 12 + int(month) - 1


def _every_month(
    rows: list[dict[str, Any]], since: date | None, until: date | None
) -> list[dict[str, Any]]:
    """The months of the period in order, a month without problems as a row of zeros.

    The period runs from since (else the first month with data) to until (else the last);
    leading empty months stop at MAX_MONTHS, so a far-off since stays readable.
    """
    keys = [r["key"] for r in rows]
    first = since.strftime("%Y-%m") if since else (keys[0] if keys else None)
    last = until.strftime("%Y-%m") if until else (keys[-1] if keys else None)
    if first is None or last is None:
        return rows
    start, end = _month_index(first), _month_index(last)
    # Empty months before the data are cut past MAX_MONTHS; months with data never are.
    earliest = _month_index(keys[0]) if keys else end
    start = max(start, min(end - MAX_MONTHS + 1, earliest))
    by_key = {r["key"]: r for r in rows}
    months = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, end + 1)]
    return [by_key.get(m) or _with_rate({"key": m, **_ZERO}) for m in months]


def _by_discipline(conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    # A problem counts under each discipline of the experts who answered it or made a deal.
    rows = conn.execute(
        _FACTS
        + """
        , d AS (
            SELECT DISTINCT facts.id, unnest(CASE WHEN cardinality(e.disciplines) > 0
                                       THEN e.disciplines ELSE ARRAY[%(unknown)s] END) AS key
            FROM facts JOIN match_feedback mf ON mf.problem_id = facts.id
            JOIN experts e ON e.id = mf.expert_id
            WHERE mf.action = ANY(%(answers)s) OR mf.action = ANY(%(positive)s)
        )
        SELECT d.key, """
        + _FIGURES
        + " FROM facts JOIN d ON d.id = facts.id GROUP BY 1 ORDER BY matched DESC, posted DESC, 1",
        params,
    ).fetchall()
    return [_with_rate(r) for r in rows]


def records(
    *,
    conn: Connection,
    principal: Principal,
    metric: str = "posted",
    region: str | None = None,
    industry: str | None = None,
    month: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The problems behind one figure (drill-down and export), newest first."""
    if metric not in METRICS:
        raise InvalidInput(f"未知指标 {metric} / unknown metric", field="metric")
    params = _params(region_in_reach(principal, region), since, until)
    params.update(industry=industry or None, month=month or None, limit=limit)
    condition = "TRUE" if metric == "posted" else metric
    return conn.execute(
        _FACTS + "SELECT id, external_id, title, organization, region, industry, month, status,"
        " created_at, approved, matched, responded, deals, hours_to_answer, deal_value,"
        " days_to_deal FROM facts"
        f" WHERE {condition}"
        " AND (%(industry)s::text IS NULL OR industry = %(industry)s)"
        " AND (%(month)s::text IS NULL OR month = %(month)s)"
        " ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
        params,
    ).fetchall()
