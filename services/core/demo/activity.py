"""Dates the demo problems over the months before the load and adds the experts' feedback.

activity.jsonl gives each demo problem a timeline in days relative to the load
(posted_days_ago, approved_after_days, returned_after_days, matched_after_days,
closed_after_days) and the feedback of experts and enterprises on its matches
(after_days counted from approval, else from posting). Applying it rewrites the problem's
created/submitted/approved/closed/updated times, replaces the single import event the loader
wrote with the dated status trail, and inserts the dated match_feedback rows.

A problem is dated once: only while its status is the one the activity expects and its trail
is still the loader's bare import event. Loading again (or after someone reviewed a demo
problem) therefore changes nothing and adds no feedback twice.

The feedback rows go in through a demo-only SQL insert: matcher.feedback.record stamps now(),
and the demo needs past times.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from greenplat.core.db import Connection, one
from greenplat.core.errors import DomainError
from greenplat.core.outbox import record_change

IMPORT_COMMENT = "导入 / import"
DEMO_COMMENT = "演示数据 / demo data"
EXPERT_ACTIONS = ("interested", "declined")
ENTERPRISE_ACTIONS = ("contacted", "deal", "invited")


class ActivityError(DomainError):
    """An activity row that cannot be applied."""

    code = "demo_data"


def _one(conn: Connection, sql: str, params: tuple) -> dict[str, Any] | None:
    return conn.execute(sql, params).fetchone()


def _untouched(conn: Connection, problem_id: int) -> bool:
    """Whether the problem's trail is still only the import event(s) the loader wrote."""
    row = one(
        conn,
        "SELECT count(*) AS n, count(*) FILTER"
        " (WHERE actor_id IS NOT NULL OR comment IS DISTINCT FROM %s) AS other"
        " FROM problem_events WHERE problem_id = %s",
        (IMPORT_COMMENT, problem_id),
    )
    return row["n"] > 0 and row["other"] == 0


def _days(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ActivityError(f"{key} must be a non-negative number of days")
    return float(value)


def _trail(row: dict[str, Any], now: datetime) -> list[tuple[str | None, str, datetime]]:
    """(from, to, when) status changes the row describes, checked against its status."""
    posted_ago = _days(row, "posted_days_ago")
    if posted_ago is None:
        raise ActivityError("missing posted_days_ago")
    posted = now - timedelta(days=posted_ago)
    status = row.get("status")
    trail: list[tuple[str | None, str, datetime]] = [(None, "draft", posted)]
    if status == "draft":
        return trail
    trail.append(("draft", "submitted", posted))
    returned = _days(row, "returned_after_days")
    approved = _days(row, "approved_after_days")
    if status == "returned":
        if returned is None:
            raise ActivityError("a returned problem needs returned_after_days")
        trail.append(("submitted", "returned", posted + timedelta(days=returned)))
    elif status in ("approved", "matched", "closed"):
        if approved is None:
            raise ActivityError(f"a {status} problem needs approved_after_days")
        approved_at = posted + timedelta(days=approved)
        trail.append(("submitted", "approved", approved_at))
        last = "approved"
        for step, key in (("matched", "matched_after_days"), ("closed", "closed_after_days")):
            after = _days(row, key)
            if after is not None:
                trail.append((last, step, approved_at + timedelta(days=after)))
                last = step
        if last != status:
            raise ActivityError(f"the timeline ends {last}, the problem is {status}")
    elif status != "submitted":
        raise ActivityError(f"unknown status {status!r}")
    if any(when > now for _, _, when in trail):
        raise ActivityError("a status change would lie in the future")
    return trail


def _actor(conn: Connection, problem: dict[str, Any], to_status: str) -> int | None:
    """Who made the change: the region's sub-center reviews, the owner does the rest."""
    if to_status in ("approved", "returned"):
        found = _one(
            conn,
            "SELECT id FROM users WHERE role = 'subcenter_admin' AND region = %s"
            " ORDER BY id LIMIT 1",
            (problem["region"],),
        )
        return found["id"] if found else None
    return problem["owner_id"]


def _feedback(
    conn: Connection,
    problem: dict[str, Any],
    row: dict[str, Any],
    start: datetime,
    now: datetime,
) -> int:
    """Demo-only insert of the dated feedback rows; returns how many were added."""
    added = 0
    for item in row.get("feedback", []):
        action = item.get("action")
        after = _days(item, "after_days")
        if after is None:
            raise ActivityError("feedback needs after_days")
        when = start + timedelta(days=after)
        if when > now:
            raise ActivityError(f"{action} of {item.get('expert')} would lie in the future")
        expert = _one(
            conn,
            "SELECT id, organization FROM experts WHERE external_id = %s",
            (item.get("expert"),),
        )
        if expert is None:
            raise ActivityError(f"expert {item.get('expert')} not found")
        if action in EXPERT_ACTIONS:
            user = _one(conn, "SELECT id FROM users WHERE expert_id = %s", (expert["id"],))
            actor_id, role = (user["id"] if user else None), "expert"
        elif action in ENTERPRISE_ACTIONS:
            actor_id, role = problem["owner_id"], "enterprise"
        else:
            raise ActivityError(f"unknown feedback action {action!r}")
        if action == "declined" and not (item.get("reason") or "").strip():
            raise ActivityError("a decline needs a reason")
        inserted = conn.execute(
            "INSERT INTO match_feedback"
            " (problem_id, expert_id, action, reason, actor_id, actor_role, created_at)"
            " SELECT %s, %s, %s, %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM match_feedback"
            "   WHERE problem_id = %s AND expert_id = %s AND action = %s)",
            (
                problem["id"],
                expert["id"],
                action,
                item.get("reason"),
                actor_id,
                role,
                when,
                problem["id"],
                expert["id"],
                action,
            ),
        )
        added += inserted.rowcount
    return added


def apply_row(conn: Connection, row: dict[str, Any], now: datetime) -> bool:
    """Date one problem and add its feedback; False when it was dated before (or moved on)."""
    problem = _one(
        conn,
        "SELECT id, status, region, owner_id FROM problems WHERE external_id = %s",
        (row.get("problem"),),
    )
    if problem is None:
        raise ActivityError(f"problem {row.get('problem')} not found")
    trail = _trail(row, now)
    if problem["status"] != row["status"] or not _untouched(conn, problem["id"]):
        return False
    stamps = {to: when for _, to, when in trail}
    conn.execute("DELETE FROM problem_events WHERE problem_id = %s", (problem["id"],))
    for from_status, to_status, when in trail:
        comment = row.get("review_comment") if to_status == "returned" else None
        conn.execute(
            "INSERT INTO problem_events"
            " (problem_id, from_status, to_status, actor_id, comment, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (
                problem["id"],
                from_status,
                to_status,
                _actor(conn, problem, to_status),
                comment or DEMO_COMMENT,
                when,
            ),
        )
    conn.execute(
        "UPDATE problems SET created_at = %s, submitted_at = %s, approved_at = %s,"
        " closed_at = %s, updated_at = %s,"
        " review_comment = coalesce(%s, review_comment) WHERE id = %s",
        (
            stamps["draft"],
            stamps.get("submitted"),
            stamps.get("approved"),
            stamps.get("closed"),
            trail[-1][2],
            row.get("review_comment"),
            problem["id"],
        ),
    )
    start = stamps.get("approved", stamps["draft"])
    _feedback(conn, problem, row, start, now)
    record_change(conn, "problems", problem["id"])
    return True


def load_time(conn: Connection) -> datetime:
    """The moment the timelines count back from: now, to the hour."""
    return one(conn, "SELECT date_trunc('hour', now()) AS t")["t"]
