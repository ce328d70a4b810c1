"""Values the server keeps about itself, shared by every process on one database.

``get_or_create`` is race-free across processes: the first writer's value wins (an insert that
ignores a conflict on the key, then a read), so two ``serve`` nodes starting at once still agree
on one signing key.
"""

from __future__ import annotations

import re
import secrets
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .conflicts import insert_for
from .tables import server_values


_GET = sa.select(server_values.c.value).where(server_values.c.key == sa.bindparam("key"))  # built once


def get(conn: Connection, key: str) -> str | None:
    return conn.execute(_GET, {"key": key}).scalar_one_or_none()


def get_or_create(conn: Connection, key: str, make: Callable[[], str]) -> str:
    """The value stored under ``key``, storing ``make()`` first if there is none."""
    found = get(conn, key)
    if found is not None:
        return found
    insert = insert_for(conn)
    conn.execute(insert(server_values).values(key=key, value=make()).on_conflict_do_nothing(index_elements=["key"]))
    stored = get(conn, key)
    assert stored is not None  # inserted here, or by whoever won the race
    return stored


def put(conn: Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing what was there."""
    insert = insert_for(conn)
    statement = insert(server_values).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": statement.excluded.value}))


# One-shot notices ("Paused The Herald."): a POST's answer shown by the page its redirect opens,
# which may be served by another web process (``newswire serve --workers``). Kept as
# ``notice:<unix seconds, 10 digits>:<random>`` so that old ones sort first and go by a range.
NOTICE_PREFIX = "notice:"
NOTICE_LIFETIME = 3600  # seconds: an unopened redirect's notice is dropped after this

_NOTICE_TOKEN = re.compile(r"([0-9]{10})-([A-Za-z0-9_-]{1,32})")
_TAKE = server_values.delete().where(server_values.c.key == sa.bindparam("key")).returning(server_values.c.value)
_PRUNE = server_values.delete().where(server_values.c.key >= NOTICE_PREFIX,
                                      server_values.c.key < sa.bindparam("before"))


def notice_key(token: str) -> str | None:
    """The row key of a notice token as the URL carries it (``<seconds>-<random>``), or None
    when ``token`` is not one."""
    made = _NOTICE_TOKEN.fullmatch(token)
    return f"{NOTICE_PREFIX}{made[1]}:{made[2]}" if made else None


def put_notice(conn: Connection, value: str, now: int) -> str:
    """Keep ``value`` under a new random token, dropping notices older than ``NOTICE_LIFETIME``;
    the token, as the URL carries it."""
    conn.execute(_PRUNE, {"before": f"{NOTICE_PREFIX}{now - NOTICE_LIFETIME:010d}"})
    token = f"{now:010d}-{secrets.token_urlsafe(9)}"
    key = notice_key(token)
    assert key is not None  # a token made here always reads back
    put(conn, key, value)
    return token


def take_notice(conn: Connection, token: str) -> str | None:
    """The notice under ``token``, removed as it is read (shown once); None when there is none."""
    key = notice_key(token)
    return None if key is None else conn.execute(_TAKE, {"key": key}).scalar_one_or_none()
