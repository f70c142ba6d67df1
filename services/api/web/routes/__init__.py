"""The portal's pages, one module per role, plus sign-in and search."""

from greenplat.api.web.routes import (
    admin,
    audit,
    auth,
    duplicates,
    expert,
    exports,
    imports,
    inbox,
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
    organizations.router,
    reference.router,
    audit.router,
    exports.router,
    imports.router,
    duplicates.router,
]
