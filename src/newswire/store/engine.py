"""Engines, connection settings, migrations, and the one place driver errors become ours.

``sqlite:///path`` and ``postgresql://user@host/db`` arrive from configuration; PostgreSQL is
reached through psycopg 3. SQLite gets incremental auto-vacuum when new, WAL (readers never block the writer), ``synchronous=NORMAL``
(durable at checkpoints, far fewer fsyncs), foreign keys (for ON DELETE CASCADE) and a busy
timeout, set on every new connection. SQLite transactions are begun by us rather than by the
driver, so that write transactions can take the write lock up front (``BEGIN IMMEDIATE``) and
never fail half-way on a lock upgrade.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from newswire.errors import StorageError

from .tables import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "newswire_write"


def sqlalchemy_url(url: str) -> str:
    """Map a configured URL to the driver SQLAlchemy should use."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise StorageError(f"store: unsupported database URL {url!r} (sqlite:///path or postgresql://…)")


def create_engine(url: str) -> Engine:
    """An engine with the per-connection settings above."""
    engine = sa.create_engine(sqlalchemy_url(url), pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves in _sqlite_begin
    dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: what follows may wait
    # auto_vacuum takes effect only on a database with no tables yet (a new one): then purged
    # articles' pages can be given back (Store.reclaim_space). Only there is it set: setting it
    # takes the write lock, so every new connection (a web request's, say) waited for the
    # writer, and failed with "database is locked" behind a write longer than the timeout.
    if dbapi_conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is None:
        dbapi_conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        dbapi_conn.execute(f"PRAGMA {pragma}")


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn SQLAlchemy and driver exceptions into StorageError, keeping the cause."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StorageError(f"store: {type(exc).__name__}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else ""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for ``migrations/`` without any alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = metadata
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision. On PostgreSQL an advisory lock keeps several
    workers starting at once from migrating concurrently."""
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7461636)"))
            command.upgrade(alembic_config(conn), "head")
