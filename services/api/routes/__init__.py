"""Every router of the API; app.py includes each one. Add yours to ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from greenplat.api.routes import (
    account,
    achievements,
    audit,
    auth,
    duplicates,
    experts,
    imports,
    matches,
    messages,
    notifications,
    ops,
    organizations,
    problems,
    reference,
    regions,
    search,
    users,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    account.router,
    problems.router,
    achievements.router,
    experts.router,
    regions.router,
    organizations.router,
    users.router,
    ops.router,
    matches.router,
    search.router,
    notifications.router,
    messages.router,
    reference.router,
    audit.router,
    duplicates.router,
    imports.router,
]
