"""Locks that say which one process plays a role (the ``--enrich`` worker) in a deployment.

    RoleLock.try_acquire() ─► PostgreSQL: pg_try_advisory_lock on a connection of its own
                          └─► SQLite: flock on a file beside the database
    RoleLock.held()        ─► is the lock's connection (or file) still ours?
    RoleLock.release()

Both locks belong to something the operating system ends with the process: a PostgreSQL
session (the server drops a session's advisory locks when its connection closes, and the kernel
closes a killed process's sockets) or an open file description. So a ``kill -9``'d holder frees
the role at once and the next process asking gets it, with no lease to wait out.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from typing import IO, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)


class RoleLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process holds it now. Never
        raises: a database that cannot be reached is a lock not taken."""

    def held(self) -> bool:
        """True while the lock is still this process's (its connection alive)."""

    def release(self) -> None:
        """Give the lock up, if held."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are keyed by integers)."""
    return int.from_bytes(hashlib.sha256(f"newswire:{name}".encode()).digest()[:8], "big", signed=True)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a connection kept for it alone (never one
    of the pool's: a pooled connection's session outlives its borrower)."""

    def __init__(self, engine: Engine, name: str):
        self._engine = engine
        self._key = lock_key(name)
        self._conn: Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        if self._held:
            return self.held()
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._held = bool(self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                                 {"k": self._key}).scalar())
            return self._held
        except sa.exc.SQLAlchemyError as error:
            log.warning("lock: cannot ask the database: %s", str(error).splitlines()[0])
            self._drop()
            return False

    def held(self) -> bool:
        if self._conn is None or not self._held:
            return False
        try:  # a session lock lasts as long as its session: a live connection still holds it
            self._conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        except sa.exc.SQLAlchemyError:
            pass
        self._drop()

    def _drop(self) -> None:
        """Close the connection for good: returned to the pool, its session (and any lock in
        it) would live on."""
        self._held = False
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None


class FileLock:
    """An exclusive ``flock`` on ``path``: on SQLite, processes sharing a database share its
    folder. With no path (an in-memory database, one process) it is always granted."""

    def __init__(self, path: str | None):
        self._path = path
        self._file: IO[bytes] | None = None
        self._held = False

    def try_acquire(self) -> bool:
        if self._held:
            return True
        if self._path is None:
            self._held = True
            return True
        try:
            self._file = self._file or open(self._path, "ab")
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._held = False


def role_lock(engine: Engine, name: str) -> RoleLock:
    """The lock for role ``name`` on this database's engine."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name)
    database = engine.url.database
    if not database or database == ":memory:":
        return FileLock(None)
    return FileLock(f"{os.path.abspath(database)}-{name}.lock")
