"""A consistent copy of a live SQLite database, with SQLite's online backup API.

The copy is taken in one step (``Connection.backup`` with every page at once): in WAL mode that
is one read transaction, so it sees one moment of the database while ``newswire run`` goes on
writing, and it never restarts the way a copy in small steps does whenever another connection
writes. It is written beside the destination and renamed into place, so a failed backup never
leaves a half-written file under the name a restore would use.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from newswire.errors import StorageError

from .engine import BUSY_TIMEOUT_MS, sqlalchemy_url


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL. Raises StorageError for another engine (PostgreSQL:
    pg_dump does this job) or a database that is not a file."""
    parsed = make_url(sqlalchemy_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise StorageError("backup: copies SQLite databases only; back PostgreSQL up with pg_dump, e.g. "
                           "pg_dump --format=custom --file=newswire.dump DATABASE (see the README, Backups)")
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        raise StorageError(f"backup: {url} is not a database file")
    return Path(parsed.database)


def backup_sqlite(url: str, destination: Path) -> int:
    """Copy the SQLite database at ``url`` to ``destination`` (replaced if it exists); returns
    the copy's size in bytes. Raises StorageError."""
    source = sqlite_path(url)
    if not source.is_file():
        raise StorageError(f"backup: no database at {source}")
    destination = destination.expanduser()
    if destination.exists() and destination.resolve() == source.resolve():
        raise StorageError("backup: the destination is the database itself")
    folder = destination.parent if str(destination.parent) else Path(".")
    if not folder.is_dir():
        raise StorageError(f"backup: no folder {folder}")
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=folder)
    os.close(handle)
    try:
        _copy(source, Path(temporary))
        os.replace(temporary, destination)
    except (sqlite3.Error, OSError) as error:
        raise StorageError(f"backup: {error}") from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return destination.stat().st_size


def _copy(source: Path, target: Path) -> None:
    reader = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
            # One self-contained file: no -wal beside it for a restore to forget.
            writer.execute("PRAGMA journal_mode=DELETE")
        finally:
            writer.close()
    finally:
        reader.close()
