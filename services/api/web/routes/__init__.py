"""The portal's pages, one module per role, plus sign-in and search."""

from greenplat.api.web.routes import auth, problems

ROUTERS = [auth.router, problems.router]
