"""Sign-in and sign-up throttling: lockout per account and per address, kept in PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from greenplat.core.db import Database

WRONG = "not-the-password-1"


@pytest.fixture
def throttled_app(settings, db) -> Iterator[Callable[..., object]]:
    """An app over the test database with its own limits, as one more API worker would be."""
    from greenplat.api.app import create_app
    from greenplat.platform import Platform

    opened: list[Database] = []

    def make(**limits: int) -> object:
        # A pool of its own: like another worker process, it shares only PostgreSQL.
        database = Database(db.url, min_size=1, max_size=4)
        opened.append(database)
        return create_app(platform=Platform(settings.model_copy(update=limits), database))

    yield make
    for database in opened:
        database.close()


@pytest.fixture
def account(db, build) -> Callable[[], str]:
    """A fresh committed account (so lockouts never touch the shared world)."""
    from greenplat.core.accounts import service as accounts

    def make() -> str:
        username = f"lock-{build.uid()}"
        with db.session() as conn:
            accounts.create_user(
                conn=conn, username=username, password=build.PASSWORD, role="expert"
            )
        return username

    return make


def _client(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf" value="(\w+)"', client.get("/login").text).group(1)


def _sign_in(client: TestClient, username: str, password: str):
    return client.post("/v1/auth/token", json={"username": username, "password": password})


def test_wrong_passwords_lock_the_account_then_the_right_one_gets_429(
    throttled_app, account, build
):
    app = throttled_app(signin_account_failures=3, signin_window_seconds=600)
    victim, bystander = account(), account()
    attacker = _client(app, f"attacker-{build.uid()}")
    for _ in range(3):
        assert _sign_in(attacker, victim, WRONG).status_code == 401
    refused = _sign_in(attacker, victim, build.PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert "账号已暂时锁定" in refused.json()["error"]["message"]
    assert "retry in" in refused.json()["error"]["message"]
    assert 590 <= int(refused.headers["retry-after"]) <= 600
    # The account is locked from every address; another account elsewhere is not.
    elsewhere = _client(app, f"owner-{build.uid()}")
    assert _sign_in(elsewhere, victim, build.PASSWORD).status_code == 429
    assert _sign_in(elsewhere, bystander, build.PASSWORD).status_code == 200


def test_the_lockout_ends_when_the_window_has_passed(throttled_app, account, build):
    app = throttled_app(signin_account_failures=2, signin_window_seconds=2)
    username = account()
    client = _client(app, f"slow-{build.uid()}")
    for _ in range(2):
        assert _sign_in(client, username, WRONG).status_code == 401
    assert _sign_in(client, username, build.PASSWORD).status_code == 429
    time.sleep(2.2)
    assert _sign_in(client, username, build.PASSWORD).status_code == 200


def test_one_address_is_limited_across_many_usernames(throttled_app, account, build):
    app = throttled_app(signin_account_failures=50, signin_address_failures=4)
    spray = _client(app, f"spray-{build.uid()}")
    for n in range(4):
        assert _sign_in(spray, f"guess-{n}-{build.uid()}", WRONG).status_code == 401
    username = account()
    refused = _sign_in(spray, username, build.PASSWORD)
    assert refused.status_code == 429
    assert "来自此地址" in refused.json()["error"]["message"]
    assert (
        _sign_in(_client(app, f"home-{build.uid()}"), username, build.PASSWORD).status_code == 200
    )


def test_the_count_holds_across_workers(throttled_app, account, build):
    first = throttled_app(signin_account_failures=3)
    second = throttled_app(signin_account_failures=3)
    username = account()
    address = f"roaming-{build.uid()}"
    assert _sign_in(_client(first, address), username, WRONG).status_code == 401
    assert _sign_in(_client(second, address), username, WRONG).status_code == 401
    assert _sign_in(_client(first, address), username, WRONG).status_code == 401
    assert _sign_in(_client(second, address), username, build.PASSWORD).status_code == 429


def test_parallel_guesses_get_no_more_tries_than_the_limit(throttled_app, account, build):
    app = throttled_app(signin_account_failures=3)
    username = account()

    def guess(n: int) -> int:
        with _client(app, f"botnet-{n}-{build.uid()}") as client:
            return _sign_in(client, username, f"{WRONG}{n}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(guess, range(16)))
    assert statuses.count(401) == 3
    assert statuses.count(429) == 13


def test_sign_ins_from_one_address_check_their_passwords_side_by_side(
    throttled_app, account, build, db, monkeypatch
):
    """An office behind one gateway: a sign-in whose password is still being checked does not
    hold up the next one from the same address (the lock covers the decision, not the hash)."""
    from greenplat.core.accounts import service as accounts

    app = throttled_app()
    first, second = account(), account()
    with db.session() as conn:
        held_hash = conn.execute(
            "SELECT password_hash FROM users WHERE username = %s", (first,)
        ).fetchone()["password_hash"]
    checking, finish = threading.Event(), threading.Event()
    real = accounts._hasher

    class HoldingFirst:
        """The real hasher, holding the first account's check until the test lets it go."""

        def verify(self, hash: str, password: str) -> bool:
            if hash == held_hash:
                checking.set()
                finish.wait(30)
            return real.verify(hash, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(accounts, "_hasher", HoldingFirst())
    address = f"office-{build.uid()}"

    def sign_in(username: str) -> int:
        with _client(app, address) as client:
            return _sign_in(client, username, build.PASSWORD).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(sign_in, first)
        try:
            assert checking.wait(30)
            assert pool.submit(sign_in, second).result(timeout=30) == 200
            assert not held.done()  # the first was still checking all along
        finally:
            finish.set()
        assert held.result(timeout=30) == 200


def test_the_portal_sign_in_is_throttled_with_a_page(throttled_app, account, build):
    app = throttled_app(signin_account_failures=2)
    username = account()
    client = _client(app, f"portal-{build.uid()}")
    for _ in range(2):
        form = {"csrf": _csrf(client), "username": username, "password": WRONG}
        assert client.post("/login", data=form).status_code == 422
    form = {"csrf": _csrf(client), "username": username, "password": build.PASSWORD}
    page = client.post("/login", data=form)
    assert page.status_code == 429
    assert "登录失败次数过多" in page.text and "gp_session" not in page.cookies
    assert int(page.headers["retry-after"]) > 0


def test_sign_ups_are_limited_per_address_even_when_the_name_is_taken(throttled_app, world, build):
    app = throttled_app(signup_address_attempts=2)
    client = _client(app, f"signups-{build.uid()}")

    def sign_up(username: str):
        body = {"username": username, "password": build.PASSWORD, "organization": f"企业{username}"}
        body["region"] = world.region_a
        return client.post("/v1/auth/signup", json=body)

    assert sign_up(f"new-{build.uid()}").status_code == 201
    # Probing an existing name counts too, so names cannot be enumerated at speed.
    assert sign_up(world.usernames["expert"]).status_code == 409
    refused = sign_up(f"new-{build.uid()}")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "注册过于频繁" in refused.json()["error"]["message"]
    other = _client(app, f"elsewhere-{build.uid()}")
    body = {"username": f"n-{build.uid()}", "password": build.PASSWORD, "organization": "某企业"}
    body["region"] = world.region_a
    assert other.post("/v1/auth/signup", json=body).status_code == 201
