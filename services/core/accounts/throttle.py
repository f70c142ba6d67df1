"""Throttling sign-in, sign-up and password reset requests: attempts counted in PostgreSQL,
per account and per address.

Counts live in the database (table signin_attempts) so every API worker and process sees the
same ones. A window slides: an account is locked while it has `account_failures` failed
sign-ins in the last `window` seconds, an address while it has `address_failures`; sign-ups
count every attempt of an address; reset requests count every request per e-mail address asked
for and per client address. Refused attempts are not counted, so a lockout ends on time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from greenplat.core.db import Connection
from greenplat.core.errors import DomainError, SignInFailed, Throttled
from greenplat.core.settings import Settings

# Advisory lock classes: one decision at a time per account and per address, across processes,
# so parallel guesses cannot all pass the count before the first failure is stored.
_ACCOUNT_LOCK = 7_411_801
_ADDRESS_LOCK = 7_411_802
_ACCOUNT_LOCKED = (
    "失败次数过多，该账号已暂时锁定，请 {n} 秒后重试"
    " / too many failed sign-ins: this account is locked, retry in {n} seconds"
)
_ADDRESS_LOCKED = (
    "来自此地址的失败登录过多，请 {n} 秒后重试"
    " / too many failed sign-ins from this address, retry in {n} seconds"
)
_SIGNUPS = (
    "来自此地址的注册过于频繁，请 {n} 秒后重试"
    " / too many sign-ups from this address, retry in {n} seconds"
)


_RESETS = (
    "重设密码请求过于频繁，请 {n} 秒后重试 / too many password reset requests, retry in {n} seconds"
)


@dataclass(frozen=True)
class Limits:
    """How many attempts the window allows: failed sign-ins per account and per address,
    sign-ups per address."""

    account_failures: int
    address_failures: int
    window: int
    signups: int
    signup_window: int
    resets_per_email: int = 3
    resets_per_address: int = 10

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            account_failures=settings.signin_account_failures,
            address_failures=settings.signin_address_failures,
            window=settings.signin_window_seconds,
            signups=settings.signup_address_attempts,
            signup_window=settings.signup_window_seconds,
            resets_per_email=settings.reset_email_attempts,
            resets_per_address=settings.reset_address_attempts,
        )


def _retry_after(
    conn: Connection, *, action: str, column: str, value: str, limit: int, window: int
) -> int | None:
    """Seconds until the window holds fewer than limit counted attempts; None when it does."""
    failed_only = "AND failed" if action == "login" else ""
    row = conn.execute(
        f"SELECT ceil(extract(epoch FROM at + %(window)s - now()))::int AS wait"  # noqa: S608
        f" FROM signin_attempts WHERE action = %(action)s AND {column} = %(value)s"
        f" {failed_only} AND at > now() - %(window)s ORDER BY at DESC OFFSET %(skip)s LIMIT 1",
        {"window": timedelta(seconds=window), "action": action, "value": value, "skip": limit - 1},
    ).fetchone()
    return max(1, row["wait"]) if row else None


def _refuse_when_over(
    conn: Connection,
    *,
    action: str,
    column: str,
    value: str,
    limit: int,
    window: int,
    message: str,
) -> None:
    wait = _retry_after(conn, action=action, column=column, value=value, limit=limit, window=window)
    if wait is not None:
        raise Throttled(message.format(n=wait), retry_after=wait)


def _record(
    conn: Connection, *, action: str, account: str | None, address: str, failed: bool
) -> None:
    conn.execute(
        "INSERT INTO signin_attempts (action, account, address, failed) VALUES (%s, %s, %s, %s)",
        (action, account, address, failed),
    )
    # Rows older than a day count in no window; dropping them keeps the table small.
    conn.execute("DELETE FROM signin_attempts WHERE at < now() - interval '1 day'")


def _lock(conn: Connection, kind: int, key: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s::int, hashtext(%s))", (kind, key))


def _refuse_any(
    conn: Connection, *, action: str, window: int, checks: Iterable[tuple[str, str, int, str]]
) -> None:
    """429 when any (column, value, limit, message) has its limit of counted attempts."""
    for column, value, limit, message in checks:
        _refuse_when_over(
            conn,
            action=action,
            column=column,
            value=value,
            limit=limit,
            window=window,
            message=message,
        )


def _refuse_sign_in(conn: Connection, *, limits: Limits, account: str, address: str) -> None:
    """429 while the account or the address has its limit of failed sign-ins in the window."""
    checks = (
        ("account", account, limits.account_failures, _ACCOUNT_LOCKED),
        ("address", address, limits.address_failures, _ADDRESS_LOCKED),
    )
    _refuse_any(conn, action="login", window=limits.window, checks=checks)


@contextmanager
def signing_in(conn: Connection, *, limits: Limits, account: str, address: str) -> Iterator[None]:
    """Refuse a locked account or address (429); count the attempt when it fails.

    The password is checked (the body) without a lock, so sign-ins from one address (an
    office behind one gateway) hash their passwords side by side instead of one at a time.
    The decision is taken after it, one attempt at a time per account and per address: the
    count is read again and a failure stored under the lock, so parallel guesses get no more
    tries than the limit, and an attempt the count refuses by then is refused whatever its
    password (its writes undone). An account or address already locked costs no hash.
    """
    _refuse_sign_in(conn, limits=limits, account=account, address=address)
    failed: SignInFailed | None = None
    with conn.transaction():  # the attempt's writes, undone if the decision refuses it
        try:
            yield
        except SignInFailed as error:
            failed = error
        _lock(conn, _ACCOUNT_LOCK, account)
        _lock(conn, _ADDRESS_LOCK, address)
        _refuse_sign_in(conn, limits=limits, account=account, address=address)
    if failed is not None:
        _record(conn, action="login", account=account, address=address, failed=True)
        raise failed


@contextmanager
def signing_up(conn: Connection, *, limits: Limits, address: str) -> Iterator[None]:
    """Refuse an address over its sign-up limit (429); count every attempt, refused or not.

    A refused sign-up ("username taken") still counts, so probing names is rate limited: its
    own writes roll back to a savepoint and the count is kept.
    """
    _lock(conn, _ADDRESS_LOCK, address)
    _refuse_when_over(
        conn,
        action="signup",
        column="address",
        value=address,
        limit=limits.signups,
        window=limits.signup_window,
        message=_SIGNUPS,
    )
    _record(conn, action="signup", account=None, address=address, failed=False)
    try:
        with conn.transaction():
            yield
    except DomainError as error:
        error.keeps_writes = True
        raise


def requesting_reset(conn: Connection, *, limits: Limits, email: str, address: str) -> None:
    """Refuse (429) a reset request over the limit of the e-mail address or the client address;
    count it otherwise. The same whether or not an account has that e-mail: no enumeration."""
    account = email.strip().lower()
    _lock(conn, _ACCOUNT_LOCK, f"reset:{account}")
    _lock(conn, _ADDRESS_LOCK, address)
    checks = (
        ("account", account, limits.resets_per_email, _RESETS),
        ("address", address, limits.resets_per_address, _RESETS),
    )
    _refuse_any(conn, action="reset", window=limits.signup_window, checks=checks)
    _record(conn, action="reset", account=account, address=address, failed=False)
