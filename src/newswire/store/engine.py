"""Engines, connection settings, migrations, and the one place driver errors become ours.

``sqlite:///path`` and ``postgresql://user@host/db`` arrive from configuration; PostgreSQL is
reached through psycopg 3. SQLite gets incremental auto-vacuum when new, WAL (readers never block the writer), ``synchronous=NORMAL``
(durable at checkpoints, far fewer fsyncs), foreign keys (for ON DELETE CASCADE) and a busy
timeout, set on every new connection. SQLite transactions are begun by us rather than by the
driver, so that write transactions can take the write lock up front (``BEGIN IMMEDIATE``) and
never fail half-way on a lock upgrade.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from newswire.errors import StorageError

from .tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

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


def alembic_config(connection: Connection | None = None) -> "Config":
    """An Alembic configuration for ``migrations/`` without any alembic.ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = metadata
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision. On PostgreSQL an advisory lock keeps several
    workers starting at once from migrating concurrently. A database already at the head is
    recognised without Alembic, whose import alone costs a short command (an unchanged `fetch`
    pass) a tenth of a second or more."""
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7461636)"))
            if _at_head(conn):
                return
            from alembic import command

            command.upgrade(alembic_config(conn), "head")


_REVISION = re.compile(r"""^revision\s*(?::[^=]*)?=\s*["']([^"']+)["']\s*$""", re.M)
_DOWN_REVISION = re.compile(r"""^down_revision\s*(?::[^=]*)?=\s*(?:["']([^"']+)["']|None)\s*$""", re.M)


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The one head of the migration files, read as text; None when they are not one plain
    chain (a merge revision, a line this reading does not understand): then Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(text), _DOWN_REVISION.search(text)
        if len(revision) != 1 or down is None:
            return None
        revisions.add(revision[0])
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(conn: Connection) -> bool:
    """Whether the database's Alembic version is the migration files' head."""
    head = head_revision()
    if head is None or not sa.inspect(conn).has_table("alembic_version"):
        return False
    return [row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))] == [head]
