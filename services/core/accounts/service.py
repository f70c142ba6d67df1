"""Accounts: argon2 password hashes, bearer tokens stored as hashes, and the principal."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg import sql

from greenplat.core import db, store
from greenplat.core.accounts import passwords
from greenplat.core.accounts.models import UserPage, UserRead, UserUpdate
from greenplat.core.audit import service as audit
from greenplat.core.db import Connection
from greenplat.core.errors import Conflict, InvalidInput, NotFound, SignInFailed, Unauthorized
from greenplat.core.organizations import service as organizations
from greenplat.core.permissions import (
    ROLES,
    Principal,
    posts_for_organization,
    regional,
    require_any,
)
from greenplat.core.reference import service as reference
from greenplat.core.regions import service as regions
from greenplat.core.settings import Settings

# Field names of UserRead, looked up per row (model_fields is a descriptor, 13x a set).
_USER_READ_FIELDS = frozenset(UserRead.model_fields)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("greenplat-no-such-user")
DEFAULT_TTL_HOURS: int = Settings.model_fields["token_ttl_hours"].default
_BAD_LOGIN = "用户名或密码错误 / wrong username or password"
_LAST_USED_EVERY = timedelta(minutes=5)
_USER_COLUMNS = (
    "u.*, e.external_id AS expert_external_id, o.name AS organization,"
    " (SELECT po.name FROM organization_requests r JOIN organizations po"
    "  ON po.id = r.organization_id WHERE r.user_id = u.id AND r.status = 'pending')"
    " AS organization_pending"
)
_USER_JOINS = (
    "LEFT JOIN experts e ON e.id = u.expert_id"
    " LEFT JOIN organizations o ON o.id = u.organization_id"
)
_USER_SQL = f"SELECT {_USER_COLUMNS} FROM users u {_USER_JOINS}"


def hash_password(password: str, *, username: str) -> str:
    """An argon2 hash of a password that meets the policy (InvalidInput otherwise)."""
    passwords.check_password(password, username=username)
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    """What is stored of a session token or a reset link's token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


_token_hash = token_hash


def verify_password(password_hash: str, password: str) -> None:
    """Raise argon2's VerificationError unless the password is the hashed one."""
    _hasher.verify(password_hash, password)


def _user_row(conn: Connection, where: str, value: Any) -> dict[str, Any] | None:
    return conn.execute(f"{_USER_SQL} WHERE {where}", (value,)).fetchone()


def to_read(row: dict[str, Any]) -> UserRead:
    """The account as the API shows it (never the hash)."""
    return UserRead(**{k: v for k, v in row.items() if k in _USER_READ_FIELDS})


def to_principal(row: dict[str, Any]) -> Principal:
    """The principal an account acts as."""
    return Principal(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        region=row["region"],
        organization_id=row["organization_id"],
        organization=row["organization"],
        expert_id=row["expert_id"],
        expert_external_id=row.get("expert_external_id"),
    )


def _check_links(conn: Connection, role: str, region: str | None, expert_id: int | None) -> None:
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role} / unknown role", field="role")
    if region is not None and regions.get_region(conn=conn, name=region) is None:
        raise InvalidInput(f"地区 {region} 不存在 / unknown region", field="region")
    if regional(role) and region is None:
        raise InvalidInput(
            "分中心管理员须指定地区 / a sub-center admin needs a region", field="region"
        )
    if (
        expert_id is not None
        and not conn.execute("SELECT 1 FROM experts WHERE id = %s", (expert_id,)).fetchone()
    ):
        raise InvalidInput(f"专家 {expert_id} 不存在 / unknown expert", field="expert_id")


def get_user(*, conn: Connection, user_id: int) -> UserRead | None:
    """The account with this id, or None."""
    row = _user_row(conn, "u.id = %s", user_id)
    return to_read(row) if row else None


def get_user_or_raise(*, conn: Connection, user_id: int) -> UserRead:
    """Like get_user, raising NotFound."""
    user = get_user(conn=conn, user_id=user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在 / user {user_id} not found")
    return user


def get_by_username(*, conn: Connection, username: str) -> UserRead | None:
    """The account with this username, or None."""
    row = _user_row(conn, "u.username = %s", username)
    return to_read(row) if row else None


def get_principal_by_username(*, conn: Connection, username: str) -> Principal | None:
    """The principal the account with this username acts as, or None."""
    row = _user_row(conn, "u.username = %s", username)
    return to_principal(row) if row else None


def create_user(
    *,
    conn: Connection,
    username: str,
    password: str,
    role: str,
    region: str | None = None,
    organization: str | None = None,
    expert_id: int | None = None,
    display_name: str = "",
) -> UserRead:
    """Create an account; the password is stored only as an argon2 hash."""
    _check_links(conn, role, region, expert_id)
    password_hash = hash_password(password, username=username)
    if get_by_username(conn=conn, username=username) is not None:
        raise Conflict(f"用户名 {username} 已被使用 / username taken", field="username")
    organization_id = _organization_id(conn, organization, role, region)
    row = db.one(
        conn,
        "INSERT INTO users (username, password_hash, display_name, role, region, organization_id,"
        " expert_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (username, password_hash, display_name, role, region, organization_id, expert_id),
    )
    return get_user_or_raise(conn=conn, user_id=row["id"])


def _organization_id(
    conn: Connection, name: str | None, role: str, region: str | None
) -> int | None:
    # Staff naming an organization for an account vouch for the membership.
    if not name:
        return None
    kind = "enterprise" if posts_for_organization(role) else "other"
    return organizations.ensure(conn=conn, name=name, kind=kind, region=region, verified=True)


def signup_enterprise(
    *,
    conn: Connection,
    username: str,
    password: str,
    organization: str,
    region: str | None = None,
    display_name: str = "",
) -> UserRead:
    """An enterprise registers itself (the one path of the API and the portal).

    A new organization is created unverified with the account as its first member. The name
    of an existing organization grants nothing: the account is created without organization
    and a membership request waits for a member of that organization or its sub-center.
    """
    # Without a region its problems would reach no sub-center's review queue.
    region = reference.subcenter_region(conn=conn, region=region)
    user = create_user(
        conn=conn,
        username=username,
        password=password,
        role="enterprise",
        region=region,
        display_name=display_name or organization,
    )
    created = organizations.create_if_new(
        conn=conn, name=organization, kind="enterprise", region=region, verified=False
    )
    if created is not None:
        conn.execute("UPDATE users SET organization_id = %s WHERE id = %s", (created, user.id))
    else:
        existing = organizations.get_by_name(conn=conn, name=organization)
        if existing is None:
            raise NotFound(f"组织 {organization} 不存在 / organization {organization} not found")
        organizations.request_membership(conn=conn, user_id=user.id, organization_id=existing["id"])
    return get_user_or_raise(conn=conn, user_id=user.id)


def authenticate(
    *,
    conn: Connection,
    username: str,
    password: str,
    ttl_hours: int | None = None,
    user_agent: str | None = None,
) -> str:
    """A new bearer token (a session) for valid credentials; raises Unauthorized otherwise.

    user_agent names the session on the account page."""
    row = conn.execute(
        "SELECT id, password_hash, active, region FROM users WHERE username = %s", (username,)
    ).fetchone()
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise SignInFailed(_BAD_LOGIN) from None
    if row is None or not row["active"]:
        raise SignInFailed(_BAD_LOGIN)
    # Expired tokens are useless; dropping them at sign-in keeps the table small.
    conn.execute("DELETE FROM api_tokens WHERE user_id = %s AND expires_at <= now()", (row["id"],))
    token = secrets.token_urlsafe(32)
    ttl = timedelta(hours=ttl_hours or DEFAULT_TTL_HOURS)
    conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, expires_at, user_agent, last_used_at)"
        " VALUES (%s, %s, now() + %s, %s, now())",
        (_token_hash(token), row["id"], ttl, (user_agent or "")[:300] or None),
    )
    audit.record(
        conn,
        actor=username,
        action="login",
        library="users",
        record_id=row["id"],
        region=row["region"],
    )
    return token


def principal_for_token(*, conn: Connection, token: str) -> Principal:
    """The principal of a valid, unexpired token of an active account; raises Unauthorized."""
    token_hash = _token_hash(token)
    # The account found is named the transaction's actor in the same statement.
    row = conn.execute(
        f"SELECT {_USER_COLUMNS}, t.last_used_at < now() - %s AS stale,"
        f" {audit.actor_settings('u')} FROM api_tokens t"
        f" JOIN users u ON u.id = t.user_id {_USER_JOINS}"
        " WHERE t.token_hash = %s AND t.expires_at > now() AND u.active",
        (_LAST_USED_EVERY, *audit.actor_params(), token_hash),
    ).fetchone()
    if row is None:
        raise Unauthorized("登录已失效，请重新登录 / invalid or expired token")
    if row["stale"] is not False:
        # Refreshed now and then, not on every request: the account page shows it to the minute.
        conn.execute(
            "UPDATE api_tokens SET last_used_at = now() WHERE token_hash = %s", (token_hash,)
        )
    return to_principal(row)


def principal_for_user(*, conn: Connection, user_id: int | None) -> Principal:
    """The principal of an active account (a background job acts for its starter)."""
    row = _user_row(conn, "u.id = %s AND u.active", user_id) if user_id is not None else None
    if row is None:
        raise Unauthorized("账号已停用或不存在 / the account is inactive or gone")
    return to_principal(row)


def revoke_token(*, conn: Connection, token: str) -> None:
    """Forget a token (log out)."""
    conn.execute("DELETE FROM api_tokens WHERE token_hash = %s", (_token_hash(token),))


def list_users(
    *,
    conn: Connection,
    principal: Principal,
    role: str | None = None,
    region: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> UserPage:
    """One page of accounts (platform admins)."""
    require_any(principal, "user", "manage")
    store.check_page(page, page_size)
    rows = conn.execute(
        f"{_USER_SQL} WHERE (%(role)s::text IS NULL OR u.role = %(role)s)"
        " AND (%(region)s::text IS NULL OR u.region = %(region)s)"
        " ORDER BY u.id LIMIT %(limit)s OFFSET %(offset)s",
        {"role": role, "region": region, "limit": page_size, "offset": (page - 1) * page_size},
    ).fetchall()
    total = db.one(
        conn,
        "SELECT count(*) AS n FROM users u WHERE (%(role)s::text IS NULL OR u.role = %(role)s)"
        " AND (%(region)s::text IS NULL OR u.region = %(region)s)",
        {"role": role, "region": region},
    )["n"]
    return UserPage(items=[to_read(r) for r in rows], total=total, page=page, page_size=page_size)


def hard_to_undo(current: UserRead, data: UserUpdate) -> list[tuple[str, Any, Any]]:
    """The changes that are hard to undo, as (field, old, new): a new role (its access changes
    at once) and switching the account off. The portal asks before it applies them."""
    changes = data.model_dump(exclude_unset=True)
    weighty: list[tuple[str, Any, Any]] = []
    if changes.get("role") not in (None, current.role):
        weighty.append(("role", current.role, changes["role"]))
    if changes.get("active") is False and current.active:
        weighty.append(("active", True, False))
    return weighty


def update_user(
    *, conn: Connection, principal: Principal, user_id: int, data: UserUpdate
) -> UserRead:
    """Change an account (platform admins); a new password ends its sessions."""
    require_any(principal, "user", "manage")
    current = get_user_or_raise(conn=conn, user_id=user_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("password", "role", "display_name", "active"):
        if required in changes and changes[required] is None:
            del changes[required]
    merged = {**current.model_dump(), **changes}
    _check_links(conn, merged["role"], merged["region"], merged["expert_id"])
    if "organization" in changes:
        name = changes.pop("organization")
        changes["organization_id"] = _organization_id(conn, name, merged["role"], merged["region"])
    password = changes.pop("password", None)
    if password is not None:
        changes["password_hash"] = hash_password(password, username=current.username)
        conn.execute("DELETE FROM api_tokens WHERE user_id = %s", (user_id,))
    if changes.get("active") is False:
        conn.execute("DELETE FROM api_tokens WHERE user_id = %s", (user_id,))
    if changes:
        # One statement: a new role and its region must reach the row's checks together.
        assignments = sql.SQL(", ").join(
            sql.SQL("{c} = %s").format(c=sql.Identifier(column)) for column in changes
        )
        conn.execute(
            sql.SQL("UPDATE users SET {a} WHERE id = %s").format(a=assignments),
            (*changes.values(), user_id),
        )
    return get_user_or_raise(conn=conn, user_id=user_id)


def delete_user(*, conn: Connection, principal: Principal, user_id: int) -> None:
    """Delete an account (platform admins); its problems stay, without owner."""
    require_any(principal, "user", "manage")
    get_user_or_raise(conn=conn, user_id=user_id)
    if user_id == principal.id:
        raise Conflict("不能删除自己的账号 / you cannot delete your own account")
    conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
