"""The portal's view of the matcher: recommendations with reasons, answers, invitations."""

from __future__ import annotations

from typing import Any

import psycopg

from greenplat.core.permissions import Principal
from greenplat.platform import Platform


def response_counts(conn: psycopg.Connection, problem_ids: list[int]) -> dict[int, int]:
    return {}


def answers(conn: psycopg.Connection, problem_id: int) -> list[dict[str, Any]]:
    return []


def recommend_for_problem(platform: Platform, principal: Principal, problem_id: int) -> dict:
    return {"experts": [], "achievements": []}


def invite(platform: Platform, principal: Principal, problem_id: int, expert_id: int, note=None):
    return None
