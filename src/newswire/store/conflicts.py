"""``INSERT … ON CONFLICT`` in the engine's own dialect, PostgreSQL's or SQLite's.

Each dialect's module is imported when a connection of that dialect first asks: a process on
SQLite (an unchanged ``newswire fetch`` pass, say) never loads PostgreSQL's, whose import was
about 17 ms of every command's start, nor one on PostgreSQL SQLite's.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.engine import Connection


def insert_for(conn: Connection) -> Callable[..., Any]:
    """The ``insert`` of ``conn``'s dialect, with ``on_conflict_do_nothing``/``_do_update``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
