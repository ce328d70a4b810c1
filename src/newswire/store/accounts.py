"""Rows of the account tables: users, sessions, API tokens and failed sign-ins.

Only hashes of secrets reach these functions (``newswire.accounts`` makes and hashes them);
nothing here decides policy (name rules, throttling limits, session lifetimes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from newswire.models import ApiToken, User

from .conflicts import insert_for
from .tables import api_tokens, login_failures, sessions, users

_USER_COLUMNS = (users.c.id, users.c.name, users.c.is_admin, users.c.created_at)


def to_user(row: Row[Any]) -> User:
    return User(id=row.id, name=row.name, is_admin=bool(row.is_admin), created_at=row.created_at)


def insert_user(conn: Connection, values: dict[str, Any]) -> User | None:
    """Insert a user; None when the name (its casefolded key) is taken."""
    dialect_insert = insert_for(conn)
    statement = (dialect_insert(users).values(**values)
                 .on_conflict_do_nothing(index_elements=[users.c.name_key]).returning(*_USER_COLUMNS))
    row = conn.execute(statement).first()
    return to_user(row) if row else None


def credentials(conn: Connection, name_key: str) -> tuple[User, str] | None:
    row = conn.execute(sa.select(*_USER_COLUMNS, users.c.password_hash)
                       .where(users.c.name_key == name_key)).first()
    return (to_user(row), row.password_hash) if row else None


def by_key(conn: Connection, name_key: str) -> User | None:
    row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.name_key == name_key)).first()
    return to_user(row) if row else None


def by_id(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
    return to_user(row) if row else None


def by_fever_key(conn: Connection, fever_key: str) -> User | None:
    row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.fever_key == fever_key)
                       .order_by(users.c.id).limit(1)).first()
    return to_user(row) if row else None


def list_all(conn: Connection) -> list[User]:
    return [to_user(row) for row in conn.execute(sa.select(*_USER_COLUMNS).order_by(users.c.id))]


def any_admin(conn: Connection) -> bool:
    return conn.execute(sa.select(users.c.id).where(users.c.is_admin.is_(True)).limit(1)).first() is not None


def set_password(conn: Connection, name_key: str, password_hash: str, fever_key: str | None,
                 now: datetime) -> bool:
    """Store a new password and end every session of its user; False when there is no such user."""
    user_id = conn.execute(sa.update(users).where(users.c.name_key == name_key)
                           .values(password_hash=password_hash, fever_key=fever_key, password_changed_at=now)
                           .returning(users.c.id)).scalar()
    if user_id is None:
        return False
    conn.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))
    return True


def set_admin(conn: Connection, name_key: str, admin: bool) -> bool:
    """False when there is no such user."""
    return conn.execute(sa.update(users).where(users.c.name_key == name_key).values(is_admin=admin)
                        .returning(users.c.id)).first() is not None


def other_admins(conn: Connection, name_key: str) -> int:
    """How many admins there are besides this user."""
    return conn.execute(sa.select(sa.func.count()).select_from(users)
                        .where(users.c.is_admin.is_(True), users.c.name_key != name_key)).scalar_one()


def upgrade_hash(conn: Connection, user_id: int, old_hash: str, new_hash: str) -> None:
    """Replace a hash made with older parameters; sessions stay (the password is the same). Only
    when the old hash is still current, so that a password changed meanwhile is not undone."""
    conn.execute(sa.update(users).where(users.c.id == user_id, users.c.password_hash == old_hash)
                 .values(password_hash=new_hash))


def delete_user(conn: Connection, name_key: str) -> bool:
    """Delete a user with their sessions and tokens (explicitly: SQLite may run without foreign
    keys enforced)."""
    user_id = conn.execute(sa.select(users.c.id).where(users.c.name_key == name_key)).scalar()
    if user_id is None:
        return False
    conn.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))
    conn.execute(sa.delete(api_tokens).where(api_tokens.c.user_id == user_id))
    conn.execute(sa.delete(users).where(users.c.id == user_id))
    return True


# sessions

def insert_session(conn: Connection, token_hash: str, user_id: int, now: datetime, expires_at: datetime) -> None:
    conn.execute(sa.insert(sessions).values(token_hash=token_hash, user_id=user_id, created_at=now,
                                            last_seen_at=now, expires_at=expires_at))


_SESSION_USER = (sa.select(*_USER_COLUMNS, sessions.c.last_seen_at).join(users, users.c.id == sessions.c.user_id)
                 .where(sessions.c.token_hash == sa.bindparam("token"),
                        sessions.c.expires_at > sa.bindparam("now", type_=sessions.c.expires_at.type)))
_TOKEN_USER = (sa.select(*_USER_COLUMNS, api_tokens.c.last_used_at).join(users, users.c.id == api_tokens.c.user_id)
               .where(api_tokens.c.token_hash == sa.bindparam("token")))  # both built once: every request asks


def session_user(conn: Connection, token_hash: str, now: datetime) -> tuple[User, datetime] | None:
    """The user of a live session and when it was last seen; None when unknown or expired."""
    row = conn.execute(_SESSION_USER, {"token": token_hash, "now": now}).first()
    return (to_user(row), row.last_seen_at) if row else None


def touch_session(conn: Connection, token_hash: str, now: datetime, expires_at: datetime) -> None:
    conn.execute(sa.update(sessions).where(sessions.c.token_hash == token_hash)
                 .values(last_seen_at=now, expires_at=expires_at))


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))


def delete_expired_sessions(conn: Connection, now: datetime) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.expires_at <= now))


# API tokens

def to_token(row: Row[Any]) -> ApiToken:
    return ApiToken(id=row.id, user_id=row.user_id, label=row.label, created_at=row.created_at,
                    last_used_at=row.last_used_at)


def insert_token(conn: Connection, token_hash: str, user_id: int, label: str, now: datetime) -> ApiToken:
    row = conn.execute(sa.insert(api_tokens).values(token_hash=token_hash, user_id=user_id, label=label,
                                                    created_at=now)
                       .returning(api_tokens.c.id, api_tokens.c.user_id, api_tokens.c.label,
                                  api_tokens.c.created_at, api_tokens.c.last_used_at)).one()
    return to_token(row)


def prune_tokens(conn: Connection, user_id: int, label: str, keep: int) -> None:
    """Delete a user's tokens with this label but the ``keep`` most recently used or made."""
    recent = (sa.select(api_tokens.c.id).where(api_tokens.c.user_id == user_id, api_tokens.c.label == label)
              .order_by(sa.func.coalesce(api_tokens.c.last_used_at, api_tokens.c.created_at).desc(),
                        api_tokens.c.id.desc()).limit(keep))
    conn.execute(sa.delete(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.label == label,
                                             api_tokens.c.id.not_in(recent.scalar_subquery())))


def token_user(conn: Connection, token_hash: str) -> tuple[User, datetime | None] | None:
    """The user of an API token and when the token was last used; None when unknown."""
    row = conn.execute(_TOKEN_USER, {"token": token_hash}).first()
    return (to_user(row), row.last_used_at) if row else None


def touch_token(conn: Connection, token_hash: str, now: datetime) -> None:
    conn.execute(sa.update(api_tokens).where(api_tokens.c.token_hash == token_hash).values(last_used_at=now))


def tokens_of(conn: Connection, user_id: int) -> list[ApiToken]:
    query = sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    return [to_token(row) for row in conn.execute(query)]


def delete_token(conn: Connection, user_id: int, token_id: int) -> bool:
    result = conn.execute(sa.delete(api_tokens).where(api_tokens.c.id == token_id,
                                                      api_tokens.c.user_id == user_id))
    return result.rowcount > 0


# failed sign-ins

def insert_failures(conn: Connection, keys: Collection[str], now: datetime) -> None:
    if keys:
        conn.execute(sa.insert(login_failures), [{"key": key, "failed_at": now} for key in keys])


def failures_since(conn: Connection, keys: Collection[str], since: datetime) -> dict[str, tuple[int, datetime]]:
    """For each key with failures after ``since``: how many, and the oldest of them."""
    query = (sa.select(login_failures.c.key, sa.func.count(), sa.func.min(login_failures.c.failed_at))
             .where(login_failures.c.key.in_(list(keys)), login_failures.c.failed_at > since)
             .group_by(login_failures.c.key))
    return {key: (count, oldest) for key, count, oldest in conn.execute(query)}


def delete_failures(conn: Connection, keys: Collection[str]) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.key.in_(list(keys))))


def delete_old_failures(conn: Connection, before: datetime) -> None:
    conn.execute(sa.delete(login_failures).where(login_failures.c.failed_at <= before))
