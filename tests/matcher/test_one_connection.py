"""One request, one connection: every route of the app holds at most one pool connection at a
time, and a small pool serves many concurrent match requests.

Before this held, a match request took three connections at once (the request's, one in the
matcher's direction, one in the indexer's search), so a pool of 2 failed a single match and a
pool of 10 failed most of 16 concurrent ones with PoolTimeout.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from greenplat.api.app import create_app
from greenplat.api.routes import ROUTERS as API_ROUTERS
from greenplat.api.web.routes import ROUTERS as PORTAL_ROUTERS
from greenplat.core.accounts import service as accounts
from greenplat.core.accounts.models import ExpertSignup
from greenplat.core.experts import applications
from greenplat.core.outbox import record_change

PASSWORD = "matcher-test-password-1"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
RECORD_KEYS = {
    **dict.fromkeys(
        ("problem", "other", "draft_portal_edit", "draft_portal_submit", "approved_portal_close",
         "submitted_portal_review"),
        "problems",
    ),
    **dict.fromkeys(("expert", "expert_battery", "thread_expert"), "experts"),
    **dict.fromkeys(
        ("achievement", "achievement_patch", "achievement_portal_withdraw"), "achievements"
    ),
}  # fmt: skip


class PoolWatch:
    """Counts the connections taken from a pool and not yet given back; keeps the peak."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._get, self._put = pool.getconn, pool.putconn
        self._lock = threading.Lock()
        self.out = self.peak = 0

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        conn = self._get(timeout)
        with self._lock:
            self.out += 1
            self.peak = max(self.peak, self.out)
        return conn

    def putconn(self, conn: psycopg.Connection) -> None:
        with self._lock:
            self.out -= 1
        self._put(conn)

    def reset(self) -> None:
        with self._lock:
            self.peak = self.out


@pytest.fixture(scope="module")
def watched(small_pool) -> Iterator[tuple[Any, Any, PoolWatch]]:
    platform, world = small_pool
    watch = PoolWatch(platform.db.pool)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(platform.db.pool, "getconn", watch.getconn)
        patch.setattr(platform.db.pool, "putconn", watch.putconn)
        yield platform, world, watch


def _insert(conn: psycopg.Connection, table: str, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    row = conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", list(values.values())
    ).fetchone()
    if table in ("problems", "experts", "achievements"):
        record_change(conn, table, row["id"])
    return row["id"]


def _problem(conn: psycopg.Connection, status: str) -> int:
    tag = uuid.uuid4().hex[:8]
    return _insert(
        conn,
        "problems",
        {
            "external_id": f"P-walk-{tag}",
            "title": f"Battery cooling {tag}",
            "description": "Lithium-ion battery packs overheat while charging.",
            "status": status,
            "organization": "Acme Energy",
            "region": "江苏",
        },
    )


def _records(platform, world) -> dict[str, Any]:
    """Throwaway records for the routes that change or delete one; the world stays as is."""
    tag = uuid.uuid4().hex[:6]
    ids: dict[str, Any] = {"tag": tag}
    with platform.db.session() as conn:
        for name in ("edit", "delete", "submit", "portal_edit", "portal_submit"):
            ids[f"draft_{name}"] = _problem(conn, "draft")
        for name in ("review", "portal_review"):
            ids[f"submitted_{name}"] = _problem(conn, "submitted")
        for name in ("close", "match", "portal_close"):
            ids[f"approved_{name}"] = _problem(conn, "approved")
        for name in ("patch", "delete"):
            ids[f"expert_{name}"] = _insert(
                conn, "experts", {"external_id": f"E-walk-{name}-{tag}", "name": f"W {name}"}
            )
            ids[f"achievement_{name}"] = _insert(
                conn,
                "achievements",
                {"external_id": f"A-walk-{name}-{tag}", "title": f"Walk {name}", "abstract": "x"},
            )
            ids[f"region_{name}"] = _insert(
                conn,
                "regions",
                {"code": f"w{name[0]}{tag}", "name": f"区{name}{tag}", "subcenter_name": "分中心"},
            )
        for name in ("withdraw", "portal_withdraw"):
            ids[f"achievement_{name}"] = _insert(
                conn,
                "achievements",
                {"external_id": f"A-walk-{name}-{tag}", "title": f"Walk {name}", "abstract": "x"},
            )
        for name in ("patch", "delete", "portal", "join_api", "join_portal"):
            ids[f"user_{name}"] = accounts.create_user(
                conn=conn,
                username=f"walk-{name}-{tag}",
                password=PASSWORD,
                role="enterprise",
                organization="Walk Co",
            ).id
        for name in ("verify", "verify_portal", "join"):
            ids[f"org_{name}"] = _insert(conn, "organizations", {"name": f"Org {name} {tag}"})
        for name in ("api", "portal"):
            ids[f"request_{name}"] = _insert(
                conn,
                "organization_requests",
                {"organization_id": ids["org_join"], "user_id": ids[f"user_join_{name}"]},
            )
        ids["job"] = _insert(
            conn,
            "import_jobs",
            {
                "library": "problems",
                "file_name": "walk.csv",
                "status": "done",
                "user_id": world.principals["admin"].id,
            },
        )
        admin = world.principals["admin"].id
        for name in ("api", "portal"):
            ids[f"notification_{name}"] = _insert(
                conn,
                "notifications",
                {"user_id": admin, "kind": "deal", "problem_id": world.problems["battery"],
                 "link": "/stats"},
            )  # fmt: skip
        ids["mail_failed"] = _insert(
            conn,
            "email_outbox",
            {"to_address": "x@example.test", "subject": "s", "body": "b", "status": "failed"},
        )
        # the first day: reset links, sessions to revoke, experts' sign-ups to review
        for name in ("api", "portal"):
            resetter = accounts.create_user(
                conn=conn, username=f"walk-reset-{name}-{tag}", password=PASSWORD, role="enterprise"
            ).id
            ids[f"reset_{name}"] = f"walk-reset-token-{name}-{tag}"
            conn.execute(
                "INSERT INTO password_resets (token_hash, user_id, expires_at)"
                " VALUES (%s, %s, now() + interval '1 hour')",
                (accounts.token_hash(ids[f"reset_{name}"]), resetter),
            )
            owner = {"api": "battery", "portal": "admin"}[name]
            token = accounts.authenticate(
                conn=conn, username=world.usernames[owner], password=PASSWORD
            )
            ids[f"session_{name}"] = conn.execute(
                "SELECT id FROM api_tokens WHERE token_hash = %s", (accounts.token_hash(token),)
            ).fetchone()["id"]
            signed = applications.signup(
                conn=conn,
                data=ExpertSignup(
                    username=f"walk-exp-{name}-{tag}", password=PASSWORD, name="W",
                    email=f"walk-{name}-{tag}@example.test", region="江苏",
                ),
            )  # fmt: skip
            ids[f"application_{name}"] = conn.execute(
                "SELECT id FROM expert_applications WHERE user_id = %s", (signed.id,)
            ).fetchone()["id"]
        # an open thread: the insider was invited to the battery problem
        ids["thread_expert"] = world.experts["insider"]
        _insert(
            conn,
            "match_feedback",
            {"problem_id": world.problems["battery"], "expert_id": ids["thread_expert"],
             "action": "invited", "actor_role": "platform_admin"},
        )  # fmt: skip
    platform.indexer.sync_pending()
    ids.update(
        kind="region",
        library="problems",
        fmt="csv",
        problem=world.problems["battery"],
        expert_battery=world.experts["battery"],
        other=world.problems["other"],
        expert=world.experts["water"],
        achievement=world.achievements["water0"],
    )
    # The portal names records by external id: "{problem_x}" beside the API's "{problem}".
    with platform.db.session() as conn:
        for key, table in RECORD_KEYS.items():
            row = conn.execute(
                f"SELECT external_id FROM {table} WHERE id = %s",  # noqa: S608
                (ids[key],),
            ).fetchone()
            ids[f"{key}_x"] = row["external_id"]
    return ids


@dataclass
class Call:
    """One request of the walk: who sends it, and what."""

    method: str
    path: str
    who: str = "admin"
    json: Any = None
    form: dict[str, Any] | None = None
    files: dict[str, Any] | None = None


def _csv(tag: str, name: str) -> tuple[str, io.BytesIO]:
    text = f"external_id,title,description\nP-imp-{name}-{tag},Imported {tag},Heat\n"
    return (f"{name}.csv", io.BytesIO(text.encode()))


def _api_calls(ids: dict[str, Any]) -> list[Call]:
    t = ids["tag"]
    problem_body = {"title": f"New {t}", "description": "Cooling of battery packs."}
    return [
        Call("POST", "/v1/auth/token", "anonymous", {"username": "?", "password": PASSWORD}),
        Call("POST", "/v1/auth/signup", "anonymous", {
            "username": f"walk-signup-{t}", "password": PASSWORD, "organization": f"Org {t}",
            "region": "江苏",
        }),
        Call("GET", "/v1/auth/me"),
        Call("POST", "/v1/auth/logout", "spare"),
        Call("GET", "/v1/problems"),
        Call("POST", "/v1/problems", json=problem_body),
        Call("GET", "/v1/problems/{problem}"),
        Call("PATCH", "/v1/problems/{draft_edit}", json={"title": f"Edited {t}"}),
        Call("DELETE", "/v1/problems/{draft_delete}"),
        Call("POST", "/v1/problems/{draft_submit}/submit"),
        Call("POST", "/v1/problems/{submitted_review}/review", json={"decision": "approve"}),
        Call("POST", "/v1/problems/{approved_close}/close"),
        Call("POST", "/v1/problems/{approved_match}/match"),
        Call("GET", "/v1/problems/{problem}/events"),
        Call("GET", "/v1/achievements"),
        Call("POST", "/v1/achievements", json={
            "title": f"Work {t}", "abstract": "Battery cooling.", "kind": "paper",
        }),
        Call("GET", "/v1/achievements/{achievement}"),
        Call("PATCH", "/v1/achievements/{achievement_patch}", json={"title": f"Work 2 {t}"}),
        Call("DELETE", "/v1/achievements/{achievement_delete}"),
        Call("POST", "/v1/achievements/{achievement_withdraw}/withdraw"),
        Call("POST", "/v1/achievements/{achievement_withdraw}/restore"),
        Call("GET", "/v1/experts"),
        Call("POST", "/v1/experts", json={"name": f"Expert {t}"}),
        Call("GET", "/v1/experts/{expert}"),
        Call("PATCH", "/v1/experts/{expert_patch}", json={"bio": "Heat pumps."}),
        Call("DELETE", "/v1/experts/{expert_delete}"),
        Call("GET", "/v1/regions"),
        Call("POST", "/v1/regions", json={
            "code": f"wn{t}", "name": f"新区{t}", "subcenter_name": "新分中心",
        }),
        Call("PATCH", "/v1/regions/{region_patch}", json={"subcenter_name": "改名"}),
        Call("DELETE", "/v1/regions/{region_delete}"),
        Call("GET", "/v1/organizations"),
        Call("POST", "/v1/organizations", json={"name": f"Org B {t}"}),
        Call("POST", "/v1/organizations/{org_verify}/verify"),
        Call("GET", "/v1/organizations/{org_join}/requests"),
        Call("POST", "/v1/organizations/{org_join}/requests/{request_api}", json={
            "decision": "approve",
        }),
        Call("GET", "/v1/users"),
        Call("POST", "/v1/users", json={
            "username": f"walk-new-{t}", "password": PASSWORD, "role": "enterprise",
            "organization": "Walk Co",
        }),
        Call("GET", "/v1/users/{user_patch}"),
        Call("PATCH", "/v1/users/{user_patch}", json={"display_name": "Walker"}),
        Call("DELETE", "/v1/users/{user_delete}"),
        Call("POST", "/v1/imports", form={"library": "problems"}, files={"file": _csv(t, "api")}),
        Call("GET", "/v1/imports/{job}"),
        Call("GET", "/v1/imports/{job}/rejections"),
        Call("GET", "/v1/imports/{job}/report.{fmt}"),
        Call("GET", "/v1/imports/templates/{library}.{fmt}"),
        Call("GET", "/healthz"),
        Call("GET", "/readyz"),
        Call("GET", "/metrics"),
        Call("GET", "/v1/matches/problems/{problem}/experts"),
        Call("GET", "/v1/matches/problems/{problem}/achievements"),
        Call("GET", "/v1/matches/inbox", "battery"),
        Call("GET", "/v1/matches/experts/{expert}/problems"),
        Call("GET", "/v1/matches/achievements/{achievement}/problems"),
        Call("POST", "/v1/matches/feedback", json={
            "problem_id": ids["problem"], "expert_id": ids["expert"], "action": "viewed",
        }),
        Call("GET", "/v1/matches/feedback"),
        Call("POST", "/v1/matches/assign", json={
            "problem_ids": [ids["problem"]], "expert_ids": [ids["expert"]], "k": 1,
        }),
        Call("GET", "/v1/search?text=lithium battery&library=experts"),
        Call("GET", "/v1/matches/problems/{problem}/pipeline"),
        Call("GET", "/v1/matches/followup?days=0"),
        Call("POST", "/v1/matches/followup/{problem}/nudge"),
        Call("GET", "/v1/notifications"),
        Call("POST", "/v1/notifications/{notification_api}/read"),
        Call("POST", "/v1/notifications/read-all"),
        Call("GET", "/v1/notifications/preferences"),
        Call("PUT", "/v1/notifications/preferences", json={"email": {"deal": "digest"}}),
        Call("GET", "/v1/account/contact"),
        Call("PUT", "/v1/account/contact", json={"email": "admin@example.test"}),
        Call("GET", "/v1/messages/{problem}/{thread_expert}"),
        Call("POST", "/v1/messages/{problem}/{thread_expert}", json={"body": "hello"}),
        Call("GET", "/v1/reference/{kind}"),
        Call("GET", "/v1/reference/{kind}/resolve?text=Jiangsu"),
        Call("POST", "/v1/reference/{kind}/aliases", json={
            "alias": f"walk-{t}", "canonical": "江苏省",
        }),
        Call("POST", "/v1/reference/{kind}/merge", json={"source": f"无{t}", "target": "江苏省"}),
        Call("GET", "/v1/audit"),
        Call("POST", "/v1/duplicates/check", json={
            "title": "Battery cooling", "text": "Battery packs overheat.", "organization": "Acme",
        }),
        Call("GET", "/v1/duplicates/{library}"),
        Call("POST", "/v1/duplicates/{library}/decisions", json={
            "record": "P-other", "other": "P-battery", "decision": "distinct",
        }),
        Call("POST", "/v1/auth/password-reset", "anonymous", {"email": "x@example.test"}),
        Call("POST", "/v1/auth/password-reset/confirm", "anonymous", {
            "token": ids["reset_api"], "password": PASSWORD,
        }),
        Call("GET", "/v1/auth/sessions", "battery"),
        Call("DELETE", "/v1/auth/sessions/{session_api}", "battery"),
        Call("DELETE", "/v1/auth/sessions", "battery"),
        Call("POST", "/v1/auth/password", "battery", {
            "current_password": PASSWORD, "new_password": PASSWORD,
        }),
        Call("POST", "/v1/auth/signup/expert", "anonymous", {
            "username": f"walk-exp-new-{t}", "password": PASSWORD, "name": "W",
            "email": f"walk-new-{t}@example.test", "region": "江苏",
        }),
        Call("GET", "/v1/auth/expert-signups"),
        Call("POST", "/v1/auth/expert-signups/{application_api}", json={"decision": "approve"}),
    ]  # fmt: skip


def _portal_calls(ids: dict[str, Any]) -> list[Call]:
    t = ids["tag"]
    csv = (
        "walk.csv",
        io.BytesIO(f"external_id,title,description\nP-imp-{t},Imported {t},Heat\n".encode()),
    )
    works = (
        "works.csv",
        io.BytesIO(
            f"external_id,title,abstract,kind\nA-imp-{t},Imported work {t},Cooling,paper\n".encode()
        ),
    )
    return [
        Call("GET", "/"),
        Call("GET", "/login", "anonymous"),
        Call("POST", "/login", "anonymous", form={"username": "?", "password": PASSWORD}),
        Call("GET", "/signup", "anonymous"),
        Call("POST", "/signup", "anonymous", form={
            "username": f"walk-signup2-{t}", "password": PASSWORD, "password2": PASSWORD,
            "organization": f"Portal Org {t}", "region": "江苏",
        }),
        Call("POST", "/logout", "spare_portal", form={}),
        Call("POST", "/lang", "anonymous", form={"lang": "en", "next": "/"}),
        Call("GET", "/enterprise/problems"),
        Call("GET", "/enterprise/problems/new"),
        Call("POST", "/enterprise/problems/new", form={
            "title": f"Portal problem {t}", "description": "Battery packs overheat.",
        }),
        Call("GET", "/problems/{draft_portal_edit_x}/edit"),
        Call("POST", "/problems/{draft_portal_edit_x}/edit", form={
            "title": f"Portal edited {t}", "description": "Battery packs overheat.",
        }),
        Call("GET", "/problems/{problem_x}"),
        Call("GET", "/problems/{problem_x}/recommendations"),
        Call("POST", "/problems/{draft_portal_submit_x}/submit", form={}),
        Call("POST", "/problems/{approved_portal_close_x}/close", form={}),
        Call("POST", "/problems/{problem_x}/invite", form={"expert_id": ids["expert_x"]}),
        Call("POST", "/expert/respond/{other_x}", "battery", form={"action": "interested"}),
        Call("POST", "/problems/{other_x}/feedback", form={
            "action": "contacted", "expert_id": ids["expert_battery_x"],
        }),
        Call("GET", "/subcenter/review"),
        Call("POST", "/subcenter/review/{submitted_portal_review_x}", form={"decision": "approve"}),
        Call("GET", "/stats"),
        Call("GET", "/stats/records"),
        Call("GET", "/stats/export.csv"),
        Call("GET", "/stats/export.xlsx"),
        Call("GET", "/admin/dashboard"),
        Call("GET", "/expert/profile", "battery"),
        Call("POST", "/expert/profile", "battery", form={"name": "Expert battery"}),
        Call("GET", "/expert/achievements", "battery"),
        Call("POST", "/expert/achievements", "battery", form={
            "title": f"Portal work {t}", "abstract": "Cooling.", "kind": "paper",
        }),
        Call("POST", "/expert/achievements/import", "battery", form={}, files={"file": works}),
        Call("GET", "/experts/{expert_x}"),
        Call("GET", "/achievements/{achievement_x}"),
        Call("GET", "/achievements/{achievement_x}/edit"),
        Call("POST", "/achievements/{achievement_patch_x}/edit", form={
            "title": f"Portal edit {t}", "abstract": "Edited.", "kind": "paper",
        }),
        Call("POST", "/achievements/{achievement_portal_withdraw_x}/withdraw", form={}),
        Call("POST", "/achievements/{achievement_portal_withdraw_x}/restore", form={}),
        Call("GET", "/favicon.ico", "anonymous"),
        Call("GET", "/admin/regions"),
        Call("POST", "/admin/regions", form={
            "code": f"wq{t}", "name": f"门户区{t}", "subcenter_name": "门户分中心",
        }),
        Call("POST", "/admin/regions/{region_patch}", form={
            "name": f"区改{t}", "subcenter_name": "分中心改",
        }),
        Call("GET", "/admin/users"),
        Call("POST", "/admin/users", form={
            "username": f"walk-admin-{t}", "password": PASSWORD, "role": "enterprise",
            "organization": "Walk Co",
        }),
        Call("POST", "/admin/users/{user_portal}", form={"role": "enterprise", "active": "on"}),
        Call("GET", "/admin/import"),
        Call("POST", "/admin/import", form={"library": "problems"}, files={"file": csv}),
        Call("GET", "/imports/{job}"),
        Call("GET", "/imports/{job}/status"),
        Call("GET", "/imports/{job}/report.{fmt}"),
        Call("GET", "/imports/templates/{library}.{fmt}"),
        Call("GET", "/search?q=lithium battery&library=experts"),
        Call("GET", "/admin/reference"),
        Call("POST", "/admin/reference/aliases", form={
            "kind": "region", "alias": f"walk-portal-{t}", "canonical": "江苏省",
        }),
        Call("POST", "/admin/reference/merge", form={
            "kind": "industry", "source": f"无{t}", "target": "新能源",
        }),
        Call("GET", "/admin/audit"),
        Call("GET", "/admin/audit/export.csv"),
        Call("GET", "/admin/audit/export.xlsx"),
        Call("GET", "/exports"),
        Call("GET", "/exports/{library}.{fmt}"),
        Call("GET", "/subcenter/duplicates"),
        Call("POST", "/subcenter/duplicates", form={
            "library": "problems", "record": "P-other", "other": "P-battery",
            "decision": "distinct",
        }),
        Call("GET", "/organizations"),
        Call("POST", "/organizations/{org_verify_portal}/verify", form={}),
        Call("POST", "/organizations/{org_join}/requests/{request_portal}", form={
            "decision": "reject",
        }),
        Call("GET", "/expert/inbox", "battery"),
        Call("GET", "/expert/invitations", "battery"),
        Call("GET", "/notifications"),
        Call("POST", "/notifications/{notification_portal}/open", form={}),
        Call("POST", "/notifications/read-all", form={}),
        Call("GET", "/account/settings"),
        Call("POST", "/account/settings", form={"email": "admin@example.test", "language": "en"}),
        Call("GET", "/admin/mail"),
        Call("POST", "/admin/mail/{mail_failed}/retry", form={}),
        Call("GET", "/messages/{problem_x}/{thread_expert_x}"),
        Call("POST", "/messages/{problem_x}/{thread_expert_x}", form={"body": "hello"}),
        Call("GET", "/subcenter/followup"),
        Call("POST", "/subcenter/followup/{problem_x}/nudge", form={}),
        Call("GET", "/password/forgot", "anonymous"),
        Call("POST", "/password/forgot", "anonymous", form={"email": "x@example.test"}),
        Call("GET", "/password/reset/{reset_portal}", "anonymous"),
        Call("POST", "/password/reset/{reset_portal}", "anonymous", form={
            "password": PASSWORD, "password2": PASSWORD,
        }),
        Call("GET", "/signup/expert", "anonymous"),
        Call("POST", "/signup/expert", "anonymous", form={
            "username": f"walk-exp-portal-new-{t}", "password": PASSWORD, "password2": PASSWORD,
            "name": "W", "email": f"walk-pnew-{t}@example.test", "region": "江苏",
        }),
        Call("GET", "/subcenter/experts"),
        Call("POST", "/subcenter/experts/{application_portal}", form={"decision": "approve"}),
        Call("GET", "/account"),
        Call("POST", "/account/sessions/{session_portal}/revoke", form={}),
        Call("POST", "/account/password", form={
            "current_password": PASSWORD, "new_password": PASSWORD, "new_password2": PASSWORD,
        }),
        Call("POST", "/account/sessions/revoke-others", form={}),
    ]  # fmt: skip


class Clients:
    """API headers and signed-in portal clients per account of the world."""

    def __init__(self, app, platform, world) -> None:
        self.app, self.platform, self.world = app, platform, world
        # From loopback: /metrics answers only this host when no metrics token is set.
        self.api = TestClient(app, client=("127.0.0.1", 50000))
        self.portal: dict[str, TestClient] = {}

    def token(self, who: str) -> dict[str, str]:
        response = self.api.post(
            "/v1/auth/token",
            json={"username": self.world.usernames[who], "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def browser(self, who: str) -> TestClient:
        if who not in self.portal:
            client = TestClient(self.app)
            if who != "anonymous":
                account = "admin" if who == "spare_portal" else who
                csrf = CSRF.search(client.get("/login").text).group(1)
                response = client.post(
                    "/login",
                    data={
                        "csrf": csrf,
                        "username": self.world.usernames[account],
                        "password": PASSWORD,
                    },
                )
                assert response.status_code == 200, response.text
            self.portal[who] = client
        return self.portal[who]

    def close(self) -> None:
        for client in [self.api, *self.portal.values()]:
            client.close()


def _settle(clients: Clients, watch: PoolWatch) -> None:
    """Wait for background work (an import a call started) to finish, then reset the peak:
    the watch counts every connection of the pool, and only the request's should count."""
    db = clients.platform.db
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.session() as conn:
            busy = conn.execute(
                "SELECT count(*) AS n FROM import_jobs WHERE status IN ('queued', 'running')"
            ).fetchone()["n"]
        if not busy and watch.out == 0:
            break
        time.sleep(0.2)
    watch.reset()


def _send_api(clients: Clients, call: Call, path: str, watch: PoolWatch) -> httpx.Response:
    headers = {}
    if call.who != "anonymous":
        # "spare": a token of its own, for the sign-out
        headers = clients.token("admin" if call.who == "spare" else call.who)
    json = call.json
    if call.path == "/v1/auth/token":
        json = {"username": clients.world.usernames["admin"], "password": PASSWORD}
    _settle(clients, watch)
    return clients.api.request(
        call.method, path, json=json, data=call.form, files=call.files, headers=headers
    )


def _send_portal(clients: Clients, call: Call, path: str, watch: PoolWatch) -> httpx.Response:
    client = clients.browser(call.who)
    form = call.form
    if call.path == "/login":
        form = {"username": clients.world.usernames["admin"], "password": PASSWORD}
    if form is not None:
        # Signed-out forms (sign-in, sign-up) carry a token too, bound to the pre-session.
        found = CSRF.search(client.get("/search" if call.who != "anonymous" else "/login").text)
        assert found, "no form token on the page"
        form = {**form, "csrf": found.group(1)}
    _settle(clients, watch)
    return client.request(call.method, path, data=form, files=call.files, follow_redirects=False)


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def _route_keys() -> set[tuple[str, str]]:
    """(method, path shape) of every route in the API's and the portal's router lists."""
    return {
        (method, _shape(route.path))
        for router in [*API_ROUTERS, *PORTAL_ROUTERS]
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


def test_every_route_holds_at_most_one_connection(watched):
    platform, world, watch = watched
    app = create_app(platform=platform)
    ids = _records(platform, world)
    api, portal = _api_calls(ids), _portal_calls(ids)
    walked = {(c.method, _shape(c.path)) for c in api + portal}
    assert walked == _route_keys(), "every route of the app is walked (add new ones here)"
    clients = Clients(app, platform, world)
    peaks: dict[str, int] = {}
    try:
        for call, send in [*[(c, _send_api) for c in api], *[(c, _send_portal) for c in portal]]:
            path = call.path.format(**ids)
            response = send(clients, call, path, watch)
            problem = re.findall(r'(?:field-error|"err"|<td|<p)[^>]*>([^<]{3,})<', response.text)
            assert response.status_code < 400, (call.method, path, response.status_code, problem)
            peaks[f"{call.method} {call.path}"] = watch.peak
    finally:
        clients.close()
        with platform.db.session() as conn:  # what the walk set off, for the tests after it
            for table in ("match_feedback", "notifications", "email_outbox", "messages"):
                conn.execute(f"DELETE FROM {table}")
    assert len(peaks) == len(walked)
    assert {route: peak for route, peak in peaks.items() if peak > 1} == {}
    assert peaks["GET /v1/matches/problems/{problem}/experts"] == 1  # the watch does count


def test_thirty_two_concurrent_matches_share_a_pool_of_four_and_eight_threads(watched):
    platform, world, watch = watched
    assert platform.db.pool.max_size == 4
    app = create_app(platform=platform)
    with TestClient(app) as client:
        response = client.post(
            "/v1/auth/token",
            json={"username": world.usernames["admin"], "password": PASSWORD},
        )
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    paths = [
        f"/v1/matches/problems/{world.problems[name]}/experts"
        for name in ("battery", "other", "water", "secret")
    ]

    async def run() -> list[httpx.Response]:
        # Fewer route threads than requests, as under real load (anyio's default is 40): a
        # request waiting for a connection must not hold a thread the holders need to finish.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 8
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            requests = [
                client.get(paths[i % len(paths)], headers=headers, timeout=120) for i in range(32)
            ]
            return await asyncio.gather(*requests)

    watch.reset()
    # A thread of its own: Playwright's sync API may hold an event loop on this one when the
    # browser tests ran earlier in the same session.
    with ThreadPoolExecutor(1) as runner:
        responses = runner.submit(asyncio.run, run()).result()
    assert [r.status_code for r in responses] == [200] * 32, [
        r.text[:200] for r in responses if r.status_code != 200
    ]
    assert all(r.json()["items"] for r in responses)
    assert watch.peak <= 4
