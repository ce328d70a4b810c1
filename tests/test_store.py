"""Store: sources, the refresh write, transactions, schema; every test on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from newswire.errors import NotFound, SourceExistsError, StorageError
from newswire.models import Article, Enclosure, Entry, SourceUpdate, StoreResult
from newswire.store import Store
from newswire.store import articles as articles_module
from newswire.store.tables import metadata
from newswire.testing import samples

T0 = datetime(2025, 9, 17, 18, 56, tzinfo=timezone.utc)


def to_entry(a: samples.SampleArticle, **changes) -> Entry:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", a.content_html)).strip()
    values = dict(guid=a.guid, url=a.url, title=a.title, authors=a.authors, published=a.published,
                  summary=a.summary, content_html=a.content_html, text=text, snippet=text[:200],
                  categories=a.categories)
    values.update(changes)
    return Entry(**values)


def sample_entries(n: int = 5, seed: int = 0) -> list[Entry]:
    outlet = samples.make_outlets(1, seed=seed)[0]
    return [to_entry(a) for a in samples.make_articles(outlet, n, seed=seed)]


def ok(at: datetime = T0, **changes) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="ok", next_due_at=at + timedelta(minutes=30), **changes)


@pytest.fixture
def source(store):
    return store.add_source("http://127.0.0.1/outlet0/feed.xml", name="The Gazette")


# sources

def test_add_and_get_source(store):
    added = store.add_source("http://example.test/feed", name="Post", site_url="http://example.test/",
                             category="Local", full_text=True, timezone="America/Toronto", poll_interval=600)
    got = store.get_source(added.id)
    assert got == added
    assert (got.name, got.site_url, got.category, got.full_text, got.timezone, got.poll_interval,
            got.enabled, got.consecutive_failures) == ("Post", "http://example.test/", "Local", True,
                                                       "America/Toronto", 600, True, 0)
    assert got.created_at.tzinfo == timezone.utc
    assert store.find_source("http://example.test/feed") == got
    assert store.find_source("http://example.test/other") is None


def test_add_source_twice_raises_with_existing_id(store, source):
    with pytest.raises(SourceExistsError) as info:
        store.add_source(source.feed_url, name="again")
    assert info.value.source_id == source.id
    assert len(store.list_sources()) == 1


def test_missing_source_raises_not_found(store):
    for call in (lambda: store.get_source(99), lambda: store.set_enabled(99, False),
                 lambda: store.remove_source(99), lambda: store.save_refresh(99, ok())):
        with pytest.raises(NotFound):
            call()


def test_list_sources_counts_articles_in_id_order(store, source):
    other = store.add_source("http://example.test/b", name="B")
    store.save_refresh(source.id, ok(), sample_entries(3))
    listed = store.list_sources()
    assert [(s.id, s.article_count) for s in listed] == [(source.id, 3), (other.id, 0)]
    assert store.get_source(source.id).article_count == 3
    assert store.article_count() == 3 and store.article_count(other.id) == 0


def test_due_sources(store):
    never = store.add_source("http://example.test/never")
    later = store.add_source("http://example.test/later")
    due = store.add_source("http://example.test/due")
    paused = store.add_source("http://example.test/paused")
    store.save_refresh(later.id, SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0 + timedelta(hours=1)))
    store.save_refresh(due.id, SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0))
    store.set_enabled(paused.id, False)
    assert [s.id for s in store.due_sources(T0)] == [never.id, due.id]
    assert {s.id for s in store.due_sources(T0, include_all=True)} == {never.id, later.id, due.id}
    store.set_enabled(paused.id, True)
    assert paused.id in {s.id for s in store.due_sources(T0)}


def test_remove_source_deletes_its_articles(store, source):
    other = store.add_source("http://example.test/b")
    store.save_refresh(source.id, ok(), sample_entries(3))
    store.save_refresh(other.id, ok(), sample_entries(2, seed=1))
    store.remove_source(source.id)
    assert store.article_count() == 2
    assert [s.id for s in store.list_sources()] == [other.id]
    # The FTS index forgot the deleted articles (a stale external-content index returns their ids).
    remaining = set(article_ids(store))
    hits = {h.article_id for h in store.search("residents", limit=100)}
    assert hits and hits <= remaining


def test_source_update_none_fields_keep_stored_values(store, source):
    store.save_refresh(source.id, ok(etag='"v1"', last_modified="Wed, 17 Sep 2025 10:00:00 GMT",
                                     name="Renamed", site_url="http://site.test/"))
    failed = SourceUpdate(fetched_at=T0 + timedelta(hours=1), status="http-500", error="server said 500",
                          consecutive_failures=2, next_due_at=T0 + timedelta(hours=3))
    store.save_refresh(source.id, failed)
    got = store.get_source(source.id)
    assert (got.etag, got.last_modified, got.name, got.site_url, got.feed_url, got.enabled) == (
        '"v1"', "Wed, 17 Sep 2025 10:00:00 GMT", "Renamed", "http://site.test/", source.feed_url, True)
    assert (got.last_fetched_at, got.last_status, got.last_error, got.consecutive_failures,
            got.next_due_at) == (T0 + timedelta(hours=1), "http-500", "server said 500", 2, T0 + timedelta(hours=3))
    store.save_refresh(source.id, ok(feed_url="http://127.0.0.1/moved.xml", enabled=False))
    got = store.get_source(source.id)
    assert (got.feed_url, got.enabled, got.last_error, got.consecutive_failures) == (
        "http://127.0.0.1/moved.xml", False, None, 0)


# the refresh write

def test_save_refresh_is_idempotent(store, source):
    entries = sample_entries(5)
    assert store.save_refresh(source.id, ok(), entries) == StoreResult(new=5)
    assert store.save_refresh(source.id, ok(), entries) == StoreResult(unchanged=5)
    assert store.article_count() == 5


def test_same_guid_in_other_source_is_another_article(store, source):
    other = store.add_source("http://example.test/b")
    entries = sample_entries(2)
    store.save_refresh(source.id, ok(), entries)
    assert store.save_refresh(other.id, ok(), entries) == StoreResult(new=2)


def test_duplicate_guids_in_one_batch_last_wins(store, source):
    first, second = sample_entries(2)
    later = to_entry_like(first, title="Final title")
    result = store.save_refresh(source.id, ok(), [first, second, later])
    assert result == StoreResult(new=2)
    titles = {store.get_article(h).title for h in article_ids(store)}
    assert titles == {"Final title", second.title}


def to_entry_like(entry: Entry, **changes) -> Entry:
    from dataclasses import replace
    return replace(entry, **changes)


def article_ids(store) -> list[int]:
    with store._engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM articles ORDER BY id")).scalars())


@pytest.mark.parametrize("change", [
    {"title": "New title"}, {"url": "http://example.test/new"}, {"authors": ("Someone Else",)},
    {"summary": "new summary"}, {"content_html": "<p>new</p>"}, {"categories": ("Other",)},
    {"enclosures": (Enclosure("http://example.test/a.mp3", "audio/mpeg", 10),)},
    {"updated": T0 + timedelta(hours=2)},
])
def test_changed_entry_is_updated_in_place(store, source, change):
    entry = sample_entries(1)[0]
    store.save_refresh(source.id, ok(), [entry])
    (article_id,) = article_ids(store)
    refreshed = T0 + timedelta(hours=5)
    result = store.save_refresh(source.id, ok(at=refreshed), [to_entry_like(entry, **change)])
    assert result == StoreResult(updated=1)
    assert article_ids(store) == [article_id]
    article = store.get_article(article_id)
    assert article.updated_at == change.get("updated", refreshed)
    assert article.first_seen_at == T0
    key = next(iter(change))
    assert getattr(article, "updated_at" if key == "updated" else key) == change[key]


def test_estimated_publication_time_never_overwrites(store, source):
    entry = sample_entries(1)[0]
    store.save_refresh(source.id, ok(), [to_entry_like(entry, published=None, published_estimated=True)])
    (article_id,) = article_ids(store)
    stored = store.get_article(article_id)
    assert (stored.published_at, stored.published_estimated) == (T0, True)
    later = T0 + timedelta(hours=1)
    again = to_entry_like(entry, title="Edited", published=later, published_estimated=True)
    assert store.save_refresh(source.id, ok(at=later), [again]) == StoreResult(updated=1)
    assert store.get_article(article_id).published_at == T0
    # Only an estimate that moved: not a change at all.
    moved = to_entry_like(again, published=later + timedelta(hours=1))
    assert store.save_refresh(source.id, ok(at=later), [moved]) == StoreResult(unchanged=1)
    # A real date from the feed does replace the estimate.
    real = to_entry_like(again, published=T0 - timedelta(days=1), published_estimated=False)
    store.save_refresh(source.id, ok(at=later), [real])
    got = store.get_article(article_id)
    assert (got.published_at, got.published_estimated) == (T0 - timedelta(days=1), False)


def test_get_article_round_trips_an_entry(store, source):
    toronto = timezone(timedelta(hours=-4))
    entry = Entry(guid="g1", url="http://example.test/1", title="Ferry <b>delays</b>",
                  authors=("Chloé  Bélanger", "Omar Okafor", "chloé bélanger"),
                  published=datetime(2025, 9, 17, 11, 1, tzinfo=toronto), summary="Short.",
                  content_html="<p>Body</p>", text="Body", snippet="Body", categories=("Local", "Transit"),
                  enclosures=(Enclosure("http://example.test/p.jpg", "image/jpeg"),), language="fr")
    store.save_refresh(source.id, ok(), [entry])
    (article_id,) = article_ids(store)
    assert store.get_article(article_id) == Article(
        id=article_id, source_id=source.id, source_name="The Gazette", guid="g1",
        url="http://example.test/1", title="Ferry <b>delays</b>",
        authors=("Chloé Bélanger", "Omar Okafor"),
        published_at=datetime(2025, 9, 17, 15, 1, tzinfo=timezone.utc), updated_at=None,
        published_estimated=False, first_seen_at=T0, summary="Short.",
        content_html="<p>Body</p>", text="Body", snippet="Body",
        categories=("Local", "Transit"),
        enclosures=(Enclosure("http://example.test/p.jpg", "image/jpeg", None),),
        language="fr",
    )
    with pytest.raises(NotFound):
        store.get_article(article_id + 100)


def test_authors_shared_across_articles_and_sources(store, source):
    other = store.add_source("http://example.test/b")
    a = Entry(guid="a", url=None, title="A", authors=("Ines Moreau",), published=T0)
    b = Entry(guid="b", url=None, title="B", authors=("INES  moreau", "Liam Gagnon"), published=T0)
    store.save_refresh(source.id, ok(), [a])
    store.save_refresh(other.id, ok(), [b])
    with store._engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, key FROM authors ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("Ines Moreau", "ines moreau"), ("Liam Gagnon", "liam gagnon")]


def test_times_sort_chronologically_whatever_the_offset(store, source):
    plus = timezone(timedelta(hours=9))
    entries = [Entry(guid="x", url=None, title="x", published=datetime(2025, 1, 1, 8, 0, tzinfo=plus)),
               Entry(guid="y", url=None, title="y", published=datetime(2025, 1, 1, 0, 30, tzinfo=timezone.utc))]
    store.save_refresh(source.id, ok(), entries)
    with store._engine.connect() as conn:
        from newswire.store.tables import articles
        guids = conn.execute(sa.select(articles.c.guid).order_by(articles.c.published_at)).scalars().all()
    assert guids == ["x", "y"]  # 08:00+09:00 is 23:00 the day before


# one transaction

def test_failed_refresh_stores_nothing(store, source):
    good = sample_entries(3)
    store.save_refresh(source.id, ok(etag='"v1"'), good[:1])
    bad = Entry(guid="bad", url=None, title="naive", published=datetime(2025, 1, 1))  # no zone
    failing = SourceUpdate(fetched_at=T0 + timedelta(hours=1), status="ok", next_due_at=T0 + timedelta(hours=2),
                           etag='"v2"', consecutive_failures=0)
    with pytest.raises(StorageError) as info:
        store.save_refresh(source.id, failing, [*good, bad])
    assert isinstance(info.value.__cause__, sa.exc.SQLAlchemyError)
    assert store.article_count() == 1
    got = store.get_source(source.id)
    assert (got.etag, got.last_fetched_at) == ('"v1"', T0)


def test_failure_after_articles_written_rolls_back(store, source, monkeypatch):
    def explode(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk on fire"))

    monkeypatch.setattr(articles_module, "_write_links", explode)
    with pytest.raises(StorageError, match="disk on fire"):
        store.save_refresh(source.id, ok(), sample_entries(3))
    monkeypatch.undo()
    assert store.article_count() == 0
    assert store.get_source(source.id).last_fetched_at is None
    # The author ids created in the failed transaction were not cached: a retry still links them.
    assert store.save_refresh(source.id, ok(), sample_entries(3)) == StoreResult(new=3)
    assert all(store.get_article(i).authors for i in article_ids(store))


# engine and schema

def test_sqlite_connection_settings(sqlite_url):
    store = Store(sqlite_url)
    with store._engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") > 0
    store.close()


def test_sqlite_a_new_connection_reads_while_another_process_writes(sqlite_url):
    """A reader never waits for the writer in WAL mode, opening its connection included: each
    new connection used to set auto_vacuum, which takes the write lock, so a web request that
    opened one behind a long write failed with "database is locked" (found by bench/soak.py)."""
    import sqlite3

    Store(sqlite_url).close()  # a database with its tables (and incremental auto-vacuum)
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    reader = Store(sqlite_url, migrate=False)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock throughout
        writer.execute("UPDATE server_values SET value = value")
        assert reader.article_count() == 0  # its first connection opens now
        with reader._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # incremental, kept
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.close()


def test_dialect(store, database_url):
    assert store.dialect == database_url.split(":")[0]


def test_migration_matches_tables(store):
    search_only = {"search_vector", "ix_articles_search_vector"}

    def include_name(name, type_, parent):
        return not (name or "").startswith("articles_fts") and name not in search_only

    with store._engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_migrating_twice_is_harmless(database_url):
    Store(database_url).close()
    store = Store(database_url)
    assert store.list_sources() == []
    store.close()


def test_head_read_without_alembic_is_alembics_head():
    """Opening a database at the head skips Alembic (a short command's start-up): the head it
    reads from the migration files as text must be the one Alembic finds."""
    from alembic.script import ScriptDirectory

    from newswire.store.engine import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_unsupported_url_is_a_storage_error():
    with pytest.raises(StorageError):
        Store("mysql://localhost/db")


def test_sources_listed_without_counting_their_articles(store, source):
    store.save_refresh(source.id, ok(), sample_entries(3))
    assert [s.article_count for s in store.list_sources()] == [3]
    uncounted = store.list_sources(with_counts=False)
    assert [(s.id, s.name, s.article_count) for s in uncounted] == [(source.id, "The Gazette", 0)]
