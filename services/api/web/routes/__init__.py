"""The portal's pages, one module per role, plus sign-in and search."""

from greenplat.api.web.routes import (
    admin,
    audit,
    auth,
    expert,
    exports,
    followup,
    inbox,
    messages,
    notifications,
    organizations,
    problems,
    reference,
    review,
    search,
    stats,
)

ROUTERS = [
    auth.router,
    problems.router,
    review.router,
    stats.router,
    expert.router,
    admin.router,
    search.router,
    inbox.router,
    notifications.router,
    messages.router,
    followup.router,
    organizations.router,
    reference.router,
    audit.router,
    exports.router,
]
