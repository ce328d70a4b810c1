"""The query plans behind a reader's unread counts and wire: no full scan of ``articles``, no
temporary sort, on SQLite and PostgreSQL. A plan is deterministic where a timing is not: a
query that scans a million articles fails here on a few hundred.

The checks are in ``plans.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from newswire.accounts import create_user
from newswire.store.engine import create_engine
from plans import PER_SOURCE, SOURCES, T0, _postgres_problems, captured, load_articles, plan_problems


@pytest.fixture
def reader(store, database_url):
    """A reader who read some articles, kept some unread, saved some and marked one source
    read, among 20,000."""
    load_articles(database_url)
    ids = [a.id for a in store.list_articles(limit=200).items]
    user = create_user(store, "ada", "correct horse battery").id
    store.mark_all_read(user, up_to_id=ids[-1])
    store.mark_read(user, ids[::7])
    store.mark_read(user, [1, 2, 3], read=False)
    store.set_saved(user, ids[::11])
    store.mark_all_read(user, source_id=store.get_article(ids[0]).source_id)
    return store, user, ids


def test_unread_counts_plan(reader, database_url):
    store, user, ids = reader
    assert plan_problems(database_url, lambda: store.unread_counts(user)) == {}


def test_article_states_plan(reader, database_url):
    store, user, ids = reader
    assert plan_problems(database_url, lambda: store.article_states(user, ids[-30:])) == {}


def test_the_checker_sees_a_full_scan(reader, database_url):
    """The check itself: counting by a column no index holds is a full scan."""
    store, user, ids = reader
    engine = create_engine(database_url)

    def scan() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT count(*) FROM articles WHERE title = 'x' ORDER BY 1"))

    try:
        assert plan_problems(database_url, scan) != {}
    finally:
        engine.dispose()


def test_a_readers_wire_plan(reader, database_url):
    """The wire as a reader sees it: muted sources and authors left out, read marks looked up."""
    store, user, ids = reader
    store.set_source_pref(user, 2, muted=True)
    store.set_author_pref(user, store.get_article(ids[0]).authors[0], muted=True) if store.get_article(
        ids[0]).authors else None

    def wire() -> None:
        page = store.list_articles(reader_id=user, limit=30)
        store.article_states(user, [a.id for a in page.items])
        store.list_articles(reader_id=user, limit=30, before=page.next)

    assert plan_problems(database_url, wire) == {}


def test_mark_all_read_up_to_a_time_seeks_the_time(reader, database_url):
    """Sync apps mark everything read "up to" a time. For a reader who never marked anything,
    the first article first seen after it is found through ix_articles_first_seen_at, not by
    walking every id above the watermark (6 s at a million articles)."""
    store, _, ids = reader
    fresh = create_user(store, "bo", "correct horse battery").id
    up_to = T0 + timedelta(minutes=SOURCES * PER_SOURCE - 50)
    with captured() as statements:
        store.mark_all_read(fresh, up_to=up_to)
    [(statement, parameters)] = [s for s in statements if "first_seen_at >" in s[0]]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                details = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                            parameters))
                assert "ix_articles_first_seen_at" in details, details
            else:
                assert _postgres_problems(conn, statement, parameters) == []
    finally:
        engine.dispose()
    assert len(store.unread_ids(fresh)) == 49  # first seen after up_to: minutes 19,951 to 19,999
