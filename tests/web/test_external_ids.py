"""Users see one id style: the external id. No page of any role and no exported file carries
the internal number of a problem, achievement or expert (issue 14).

Each role crawls the portal on the demo data from its menu, following every link of the pages
it reaches (a few of each route), and every page is checked for internal numbers in links,
form targets, element ids, hidden fields, data attributes and JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urldefrag, urlsplit

import openpyxl
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from greenplat.api.app import create_app
from greenplat.api.web.render import MENUS
from greenplat.api.web.routes import ROUTERS as PORTAL_ROUTERS
from greenplat.core import links
from greenplat.core.db import Database
from greenplat.core.demo import loader
from greenplat.core.interchange import service as interchange
from greenplat.core.permissions import SYSTEM
from greenplat.platform import Platform

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
# A problem's external id that needs quoting in a URL: non-ASCII, '#', '?', '&', '=' and '%'.
ODD_ID = "PRB-热泵#2?x=1&y%"
ACCOUNTS = {
    "enterprise": ("ent-huachu", "greenplat-ent"),
    "expert": ("exp-wangjianguo", "greenplat-expert"),
    "subcenter_admin": ("js-center", "greenplat-center"),
    "platform_admin": ("admin", "greenplat-admin"),
}
# Pages every role opens besides its menu.
COMMON = [
    "/search?library=problems",
    "/search?library=achievements",
    "/search?library=experts",
    "/search?library=problems&q=电池",
    "/notifications",
    "/account/settings",
]
PER_ROUTE = 3
NUMBERED_PATH = re.compile(
    r"/(?:problems|achievements|experts|messages|expert/respond|subcenter/review"
    r"|subcenter/followup)/\d+(?=[/?#\"'&\s]|$)"
)
NUMBERED_JSON = re.compile(r"\"(?:problem_id|expert_id|achievement_id)\"\s*:\s*\d")
# Element ids (and label targets) the pages give a record: a prefix, then the record's id.
RECORD_ELEMENT = re.compile(r"^(?:p|c|pair-|approach-|timeframe-|cost-|reason-|kind-|amount-"
                            r"|date-)(\d+)$")  # fmt: skip
LINK = re.compile(r'(?:href|data-fragment)="([^"]*)"')
RECORD_FIELDS = {"expert_id", "problem_id", "achievement_id", "record", "other"}


class _Attributes(HTMLParser):
    """Every tag's attributes, and the hrefs, actions and data-fragment URLs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Attributes()
    parser.feed(html)
    return parser.tags


@pytest.fixture(scope="module")
def demo(make_database_url, settings) -> Iterator[tuple[Platform, TestClient]]:
    """The demo data on a database of its own, one problem renamed to an id that needs
    quoting, indexed, with the app over it."""
    url = make_database_url("ids")
    own = settings.model_copy(update={"database_url": url, "models": "en:minilm"})
    platform = Platform(own, Database(url, min_size=1, max_size=4))
    with platform.db.session() as conn:
        loader.load(conn=conn)
        conn.execute(
            "UPDATE problems SET external_id = %s WHERE external_id = 'PRB-002'", (ODD_ID,)
        )
    platform.indexer.sync_pending()
    yield platform, create_app(platform=platform)
    platform.close()


def _internal_ids(platform: Platform) -> dict[str, set[int]]:
    with platform.db.session() as conn:
        return {
            table: {r["id"] for r in conn.execute(f"SELECT id FROM {table}")}  # noqa: S608
            for table in ("problems", "achievements", "experts")
        }


def _signed_in(app, role: str) -> TestClient:
    client = TestClient(app)
    username, password = ACCOUNTS[role]
    csrf = CSRF.search(client.get("/login").text).group(1)
    response = client.post(
        "/login", data={"csrf": csrf, "username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return client


def _route_of(path: str) -> str | None:
    """The portal route serving a path (its template), or None."""
    for router in PORTAL_ROUTERS:
        for route in router.routes:
            get = isinstance(route, APIRoute) and "GET" in route.methods
            if get and route.path_regex.match(path):
                return route.path
    return None


def _leaks(html: str, numbers: set[int]) -> list[str]:
    """What in a page names a problem, achievement or expert by its internal number."""
    found = NUMBERED_PATH.findall(html) + NUMBERED_JSON.findall(html)
    for tag, attrs in _tags(html):
        for name in ("id", "for"):
            element = RECORD_ELEMENT.match(attrs.get(name, ""))
            if element and int(element.group(1)) in numbers:
                found.append(f'{tag} {name}="{attrs[name]}"')
        if tag == "input" and attrs.get("name") in RECORD_FIELDS and attrs["value"].isdigit():
            found.append(f'input {attrs["name"]}="{attrs["value"]}"')
        for name, value in attrs.items():
            if name.startswith("data-") and NUMBERED_PATH.search(value):
                found.append(f'{tag} {name}="{value}"')
    return found


def _links(html: str) -> list[str]:
    # Read by pattern: HTMLParser would decode "&region=" in a URL as "®ion=", browsers do not.
    out = []
    for target in LINK.findall(html):
        target = urldefrag(target.replace("&amp;", "&"))[0]
        if target.startswith("/") and not target.startswith("/static/"):
            out.append(target)
    return out


def _crawl(client: TestClient, role: str, numbers: set[int]) -> dict[str, str]:
    """Every page the role reaches from its menu (PER_ROUTE of each route): path -> html."""
    queue = [path for _, path in MENUS[role]] + COMMON
    seen: set[str] = set()
    per_route: Counter[str] = Counter()
    pages: dict[str, str] = {}
    while queue:
        path = queue.pop(0)
        route = _route_of(urlsplit(path).path)
        if path in seen or route is None or per_route[route] >= PER_ROUTE:
            continue
        seen.add(path)
        per_route[route] += 1
        response = client.get(path)
        assert response.status_code == 200, (role, path, response.status_code)
        if not response.headers["content-type"].startswith("text/html"):
            continue
        pages[path] = response.text
        leaks = _leaks(response.text, numbers)
        assert not leaks, (role, path, leaks[:5])
        queue += _links(response.text)
    return pages


def test_no_page_of_any_role_shows_an_internal_number(demo):
    platform, app = demo
    ids = _internal_ids(platform)
    numbers = set().union(*ids.values())
    visited: dict[str, dict[str, str]] = {}
    for role in ACCOUNTS:
        with _signed_in(app, role) as client:
            visited[role] = _crawl(client, role, numbers)
    everything = "".join(html for pages in visited.values() for html in pages.values())
    # The crawl did reach the records, by their external ids.
    for shown in ("/problems/PRB-001", "/experts/EXP-", "/achievements/ACH-", "/messages/PRB-"):
        assert shown in everything, shown
    routes = {_route_of(urlsplit(p).path) for pages in visited.values() for p in pages}
    for route in (
        "/problems/{external_id}",
        "/problems/{external_id}/edit",
        "/problems/{external_id}/recommendations",
        "/experts/{external_id}",
        "/achievements/{external_id}",
        "/messages/{problem_ref}/{expert_ref}",
        "/subcenter/review",
        "/subcenter/followup",
        "/stats/records",
        "/expert/inbox",
        "/expert/invitations",
    ):
        assert route in routes, route


def test_an_external_id_that_needs_quoting_is_linked_and_opens(demo):
    platform, app = demo
    quoted = links.problem(ODD_ID)
    assert quoted == "/problems/" + quote(ODD_ID, safe="")
    with _signed_in(app, "enterprise") as client:
        mine = client.get("/enterprise/problems").text
        assert f'href="{quoted}"' in mine
        page = client.get(quoted)
        assert page.status_code == 200
        assert f'<span id="problem-external-id">{ODD_ID.replace("&", "&amp;")}</span>' in page.text
        assert f'data-fragment="{quoted}/recommendations?fragment=1"' in page.text
        # The language switch comes back to the same page, the id still quoted.
        assert f'name="next" value="{quoted}"' in page.text
        csrf = CSRF.search(page.text).group(1)
        switched = client.post(
            "/lang", data={"csrf": csrf, "lang": "en", "next": quoted}, follow_redirects=False
        )
        assert switched.headers["location"] == quoted
        assert client.get(f"{quoted}/recommendations?fragment=1").status_code == 200


def test_old_numbered_urls_and_unknown_ids_are_not_found(demo):
    platform, app = demo
    with platform.db.session() as conn:
        number = conn.execute("SELECT id FROM problems WHERE external_id = 'PRB-001'").fetchone()
        expert = conn.execute("SELECT id FROM experts WHERE external_id = 'EXP-001'").fetchone()
        work = conn.execute("SELECT id FROM achievements ORDER BY id LIMIT 1").fetchone()
    with _signed_in(app, "platform_admin") as client:
        assert client.get("/problems/PRB-001").status_code == 200
        assert client.get("/experts/EXP-001").status_code == 200
        for path in (
            f"/problems/{number['id']}",
            f"/experts/{expert['id']}",
            f"/achievements/{work['id']}",
            "/problems/PRB-999",
            f"/messages/PRB-001/{expert['id']}",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "text/html" in response.headers["content-type"]


def _header_of(body: bytes, suffix: str) -> list[str]:
    if suffix == ".csv":
        return next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    if suffix == ".jsonl":
        keys: set[str] = set()
        for line in body.decode().splitlines():
            keys |= set(json.loads(line))
        return sorted(keys)
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return [str(c) for c in next(sheet.iter_rows(values_only=True))]


def _no_internal_column(header: list[str]) -> None:
    assert header, "an export has a header"
    internal = {"id", "record_id", "problem_id", "owner_id", "organization_id", "merged_into"}
    assert not internal & {h.strip().lower() for h in header}, header


def test_exported_files_carry_external_ids_only(demo, tmp_path: Path):
    platform, app = demo
    with _signed_in(app, "platform_admin") as client:
        for library in ("problems", "achievements", "experts"):
            for suffix in (".csv", ".xlsx", ".jsonl"):
                response = client.get(f"/exports/{library}{suffix}")
                assert response.status_code == 200, (library, suffix)
                header = _header_of(response.content, suffix)
                _no_internal_column(header)
                assert "external_id" in header
        for suffix in (".csv", ".xlsx"):
            response = client.get(f"/stats/export{suffix}")
            assert response.status_code == 200
            header = _header_of(response.content, suffix)
            _no_internal_column(header)
            _no_internal_column(_header_of(client.get(f"/admin/audit/export{suffix}").content,
                                           suffix))  # fmt: skip
        rows = list(csv.reader(io.StringIO(client.get("/stats/export.csv").text.lstrip("\ufeff"))))
        assert ODD_ID in {row[0] for row in rows[1:]}
    # The command line's export (greenplat export) writes the same records.
    with platform.db.session() as conn:
        for library in ("problems", "achievements", "experts"):
            path = tmp_path / f"{library}.xlsx"
            interchange.export_file(conn=conn, principal=SYSTEM, library=library, path=path)
            _no_internal_column(_header_of(path.read_bytes(), ".xlsx"))
