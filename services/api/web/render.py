"""Rendering pages from the Jinja2 templates, with the catalogue and the viewer in context."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from greenplat.core import links
from greenplat.core.errors import DomainError
from greenplat.core.messages import in_language

from . import charts
from .errors import describe, field_label
from .forms import LIMITS
from .i18n import LANG_COOKIE, Translator, pick_language

# Menu entries per role: (catalogue key, path).
MENUS: dict[str, list[tuple[str, str]]] = {
    "enterprise": [
        ("nav.my_problems", "/enterprise/problems"),
        ("nav.new_problem", "/enterprise/problems/new"),
        ("nav.organizations", "/organizations"),
    ],
    "expert": [
        ("nav.inbox", "/expert/inbox"),
        ("nav.invitations", "/expert/invitations"),
        ("nav.profile", "/expert/profile"),
        ("nav.achievements", "/expert/achievements"),
    ],
    "subcenter_admin": [
        ("nav.review", "/subcenter/review"),
        ("signup_expert.nav", "/subcenter/experts"),
        ("nav.followup", "/subcenter/followup"),
        ("nav.stats", "/stats"),
        ("nav.organizations", "/organizations"),
        ("nav.duplicates", "/subcenter/duplicates"),
        ("nav.exports", "/exports"),
        ("nav.audit", "/admin/audit"),
    ],
    "platform_admin": [
        ("nav.dashboard", "/admin/dashboard"),
        ("nav.review", "/subcenter/review"),
        ("signup_expert.nav", "/subcenter/experts"),
        ("nav.followup", "/subcenter/followup"),
        ("nav.regions", "/admin/regions"),
        ("nav.users", "/admin/users"),
        ("nav.organizations", "/organizations"),
        ("nav.import", "/admin/import"),
        ("nav.mail", "/admin/mail"),
        ("nav.exports", "/exports"),
        ("nav.reference", "/admin/reference"),
        ("nav.audit", "/admin/audit"),
    ],
}


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _days_since(value: datetime | None) -> str:
    """Whole days (one decimal under two days) from a moment to now."""
    if value is None:
        return "—"
    days = (datetime.now(value.tzinfo) - value).total_seconds() / 86400
    return f"{days:.1f}" if days < 2 else f"{days:.0f}"


def _raw_path(request: Request) -> str:
    """The path as the browser sent it: an external id in it stays quoted (the language
    switch sends the viewer back to it, and a decoded '#' or '?' would cut it short)."""
    raw = request.scope.get("raw_path")
    return raw.decode("ascii", "replace") if raw else request.url.path


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment; templates ship inside the package."""
    folder = resources.files("greenplat.api.web") / "templates"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    # A record in a URL is its external id, quoted: /problems/{{ p.external_id | urlid }}.
    env.filters["urlid"] = links.segment
    env.filters["days_since"] = _days_since
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    env.globals["meter"] = charts.meter
    env.globals["limits"] = LIMITS
    env.filters["join_terms"] = lambda v: "；".join(v or [])
    env.filters["in_language"] = in_language
    return env


def render(v: Any, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page for viewer v."""
    principal = v.principal
    ok = v.request.query_params.get("ok", "")
    context.setdefault("flash", v.t(ok) if ok.startswith("flash.") and v.t.has(ok) else "")
    html = (
        environment()
        .get_template(template)
        .render(
            t=v.t,
            lang=v.lang,
            me=principal,
            csrf=v.csrf,
            menu=MENUS.get(principal.role, []) if principal else [],
            path=_raw_path(v.request),
            unread=v.unread,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    v.keep_presession(response)
    return response


def render_error(request: Request, error: DomainError) -> HTMLResponse:
    """The error page for a domain error, in the viewer's language, inside the viewer's
    header and menu (the viewer the route resolved; no database work here)."""
    v = getattr(request.state, "viewer", None)
    lang = v.lang if v is not None else pick_language(request.cookies.get(LANG_COOKIE))
    t = Translator(lang)
    context = {
        "code": error.status,
        "message": describe(error, t),
        "field": field_label(error.field, t),
        "field_code": error.field or "",
        "back": _back(request),
    }
    if v is not None:
        return render(v, "error.html", status=error.status, **context)
    html = (
        environment()
        .get_template("error.html")
        .render(
            t=t,
            lang=lang,
            me=None,
            csrf="",
            menu=[],
            path=_raw_path(request),
            unread=0,
            **context,
        )
    )
    return HTMLResponse(html, status_code=error.status)


def _back(request: Request) -> str:
    """The page the reader came from on this site (a path), for the error page's way back."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return ""
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    return "" if back == request.url.path else back
