"""Values the server keeps about itself, shared by every process on one database.

``get_or_create`` is race-free across processes: the first writer's value wins (an insert that
ignores a conflict on the key, then a read), so two ``serve`` nodes starting at once still agree
on one signing key.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from .tables import server_values


_GET = sa.select(server_values.c.value).where(server_values.c.key == sa.bindparam("key"))  # built once


def get(conn: Connection, key: str) -> str | None:
    return conn.execute(_GET, {"key": key}).scalar_one_or_none()


def get_or_create(conn: Connection, key: str, make: Callable[[], str]) -> str:
    """The value stored under ``key``, storing ``make()`` first if there is none."""
    found = get(conn, key)
    if found is not None:
        return found
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(server_values).values(key=key, value=make()).on_conflict_do_nothing(index_elements=["key"]))
    stored = get(conn, key)
    assert stored is not None  # inserted here, or by whoever won the race
    return stored


def put(conn: Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing what was there."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(server_values).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": statement.excluded.value}))
