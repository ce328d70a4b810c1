"""``prepared.Many`` writes what ``conn.execute(statement, rows)`` writes, byte for byte, and fails
as it fails, on each engine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from newswire.errors import StorageError
from newswire.store.engine import translate_errors
from newswire.store.prepared import Many
from newswire.store.tables import articles

T0 = datetime(2025, 9, 17, 18, 56, 7, 120, tzinfo=timezone.utc)
EAST = timezone(timedelta(hours=5, minutes=30))


def rows(source_id: int, prefix: str) -> list[dict[str, Any]]:
    """Rows with every kind of value the write path sends: aware datetimes in and out of UTC
    (one with no microseconds), None, JSON with non-ASCII text, both booleans."""
    out = []
    for i, (when, estimated) in enumerate([(T0, False), (T0.astimezone(EAST), True),
                                          (datetime(2024, 2, 29, 0, 0, tzinfo=EAST), False)]):
        out.append({
            "source_id": source_id, "guid": f"{prefix}{i}", "url": None if i == 1 else f"http://x/{i}",
            "title": f"Título {i} ‘quoted’ 50%", "authors_text": "", "credit": "", "summary": "",
            "content_html": "<p>é</p>", "text": "line\nline", "snippet": "", "language": None if i else "en",
            "enclosures": [] if i == 1 else [{"url": "http://x/a.mp3", "type": "audio/mpeg", "length": i}],
            "content_hash": f"{i:032d}", "published_at": when, "updated_at": None if i else when,
            "published_estimated": estimated, "first_seen_at": T0,
            "extraction_status": "pending" if i == 2 else None, "extraction_due_at": T0 if i == 2 else None,
        })
    return out


def stored(conn: sa.Connection, prefix: str) -> list[tuple[Any, ...]]:
    """Every column but id and guid, as the driver reads it back (SQLite's stored text, not values
    SQLAlchemy converted), in guid order."""
    names = [c.name for c in articles.columns if c.name not in ("id", "guid")]
    query = f"SELECT {', '.join(names)} FROM articles WHERE substr(guid, 1, 1) = '{prefix}' ORDER BY guid"
    return [tuple(row) for row in conn.exec_driver_sql(query)]


@pytest.fixture
def source_id(store) -> int:
    return store.add_source("http://127.0.0.1/feed.xml").id


def test_insert_and_update_write_what_execute_writes(store, source_id):
    insert, update = Many(sa.insert(articles)), Many(sa.update(articles).where(articles.c.id == sa.bindparam("b_id")))
    with store._engine.begin() as conn:
        conn.execute(sa.insert(articles), rows(source_id, "a"))
        assert insert(conn, rows(source_id, "b")) == 3
        assert insert(conn, rows(source_id, "c")[:1]) == 1  # one row: an execute, not an executemany
        assert stored(conn, "a") == stored(conn, "b") != []
        assert stored(conn, "c") == stored(conn, "a")[:1]
        ids = {guid: id_ for guid, id_ in conn.execute(sa.select(articles.c.guid, articles.c.id))}

        def changes(prefix: str) -> list[dict[str, Any]]:
            return [{"b_id": ids[f"{prefix}{i}"], "title": f"new {i}", "published_at": T0 + timedelta(days=i),
                     "published_estimated": not i, "enclosures": [{"n": i}], "changed_at": T0.astimezone(EAST)}
                    for i in range(3)]

        conn.execute(sa.update(articles).where(articles.c.id == sa.bindparam("b_id")), changes("a"))
        assert update(conn, changes("b")) == 3
        assert update(conn, [{**changes("b")[0], "b_id": -1}]) == 0  # matches nothing
        assert stored(conn, "a") == stored(conn, "b")
        assert stored(conn, "a") != stored(conn, "c")


def test_a_refused_value_fails_as_execute_fails(store, source_id):
    naive = [{**row, "published_at": T0.replace(tzinfo=None)} for row in rows(source_id, "a")]
    insert = Many(sa.insert(articles))
    with store._engine.connect() as conn:
        with pytest.raises(StorageError) as expected, translate_errors():
            conn.execute(sa.insert(articles), naive)
        conn.rollback()
        with pytest.raises(StorageError) as got, translate_errors():
            insert(conn, naive)
    assert str(got.value) == str(expected.value)
    assert "naive datetime" in str(got.value)
    assert type(got.value.__cause__) is type(expected.value.__cause__)


def test_the_database_refusing_a_row_fails_as_execute_fails(store, source_id):
    twice = rows(source_id, "a")[:1] * 2  # the same (source_id, guid) twice
    insert = Many(sa.insert(articles))
    errors = []
    for run in (lambda conn: conn.execute(sa.insert(articles), twice), lambda conn: insert(conn, twice)):
        with store._engine.connect() as conn:
            with pytest.raises(StorageError) as raised, translate_errors():
                run(conn)
            errors.append(raised.value)
    assert isinstance(errors[1].__cause__, sa.exc.IntegrityError)
    assert type(errors[1].__cause__) is type(errors[0].__cause__)


def test_rows_lacking_a_bound_value_are_refused(store):
    needs_id = Many(sa.update(articles).where(articles.c.id == sa.bindparam("b_id")))
    with store._engine.connect() as conn, pytest.raises(ValueError, match="b_id"):
        needs_id(conn, [{"title": "x"}])


def test_a_source_update_refuses_an_unknown_column(store):
    from newswire.store import sources

    source_id = store.add_source("http://127.0.0.1/feed.xml").id
    with store._engine.begin() as conn:
        assert sources.update(conn, source_id, {"name": "Renamed"})
        assert not sources.update(conn, source_id + 1, {"name": "Nobody"})
        with pytest.raises(sa.exc.CompileError, match="no_such_column"):
            sources.update(conn, source_id, {"name": "x", "no_such_column": 1})
    assert store.get_source(source_id).name == "Renamed"
