"""Retention: articles older than NEWSWIRE_RETENTION_DAYS are purged in small batches with their
search rows, copies and empty stories; saved ones stay; SQLite gives the space back. Every test
on SQLite and PostgreSQL where the ``store`` fixture is used."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from newswire.accounts import create_user
from newswire.config import Settings, SettingsError
from newswire.errors import NotFound
from newswire.models import Entry, SourceUpdate
from newswire.service import retention
from newswire.store import Store

NOW = datetime.now(timezone.utc).replace(microsecond=0)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=1)
FILLER = " ".join(f"filler{n}" for n in range(3000))  # enough text that deleting it frees pages


def entry(guid: str, at: datetime, word: str) -> Entry:
    return Entry(guid=guid, url=f"http://127.0.0.1/{guid}", title=f"{word} report {guid}", authors=("Ada Moreau",),
                 published=at, text=f"{word} {FILLER}", snippet=word, categories=("Local",))


def store_entries(store: Store, source_id: int, *entries: Entry) -> dict[str, int]:
    store.save_refresh(source_id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW), entries)
    return {a.guid: a.id for a in store.list_articles(source_id=source_id, limit=200, include_copies=True).items}


@pytest.fixture
def aged(store):
    """Old and recent articles on two sources: an old story alone, an old article in a story with a
    recent one, an old original with two recent copies, an old saved article."""
    a = store.add_source("http://127.0.0.1/a.xml", name="A")
    b = store.add_source("http://127.0.0.1/b.xml", name="B")
    ids = store_entries(store, a.id, entry("alone", OLD, "zeppelin"), entry("saved", OLD - timedelta(hours=1), "quasar"),
                        entry("original", OLD + timedelta(hours=1), "harbour"),
                        entry("mixed", OLD + timedelta(hours=2), "lighthouse"), entry("fresh", RECENT, "lighthouse"))
    ids |= store_entries(store, b.id, entry("copy1", RECENT - timedelta(hours=2), "harbour"),
                         entry("copy2", RECENT - timedelta(hours=1), "harbour"))
    alone_story, mixed_story = store.create_stories([("alone", OLD), ("mixed", OLD)])
    store.assign_stories([(ids["alone"], alone_story), (ids["mixed"], mixed_story), (ids["fresh"], mixed_story)])
    store.set_duplicate_of([(ids["copy1"], ids["original"]), (ids["copy2"], ids["original"])])
    reader = create_user(store, "ada", "correct horse battery")
    store.set_saved(reader.id, [ids["saved"]])
    store.mark_read(reader.id, [ids["alone"], ids["fresh"]])
    return store, ids, alone_story, mixed_story, reader.id


def test_old_articles_go_with_their_search_rows_copies_and_empty_stories(aged):
    store, ids, alone_story, mixed_story, reader = aged
    cutoff = retention.cutoff_for(30, NOW)
    assert store.article_count() == 7 and store.purgeable_count(cutoff) == 3
    assert [h.article_id for h in store.search("zeppelin")] == [ids["alone"]]

    summary = retention.purge(store, cutoff, batch=2)  # two batches

    assert (summary.articles, summary.stories) == (3, 1)
    assert store.article_count() == 4 and store.purgeable_count(cutoff) == 0
    left = {a.guid for a in store.list_articles(limit=50, include_copies=True).items}
    assert left == {"saved", "fresh", "copy1", "copy2"}
    assert store.search("zeppelin") == [] and store.list_articles(query="zeppelin").items == ()
    assert [h.article_id for h in store.search("quasar")] == [ids["saved"]]  # saved: kept, still found
    assert store.saved_ids(reader) == [ids["saved"]]
    with pytest.raises(NotFound):
        store.get_story(alone_story)
    assert store.get_story(mixed_story).article_count == 1
    # the copies of the purged original: the earliest is the original now, the other copies it
    copy1, copy2 = store.get_articles([ids["copy1"], ids["copy2"]])
    assert (copy1.duplicate_of, copy2.duplicate_of) == (None, ids["copy1"])
    assert [a.guid for a in store.list_articles(limit=50).items] == ["fresh", "copy1", "saved"]


def test_a_second_purge_finds_nothing_and_saved_articles_go_once_unsaved(aged):
    store, ids, _, _, reader = aged
    cutoff = retention.cutoff_for(30, NOW)
    retention.purge(store, cutoff)
    assert retention.purge(store, cutoff).articles == 0
    store.set_saved(reader, [ids["saved"]], saved=False)
    assert retention.purge(store, cutoff).articles == 1
    assert store.article_count() == 3


def test_the_periodic_pass_purges_in_steps_and_stops_when_asked(aged):
    store, *_ = aged
    purged: list[retention.PurgeSummary] = []

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(retention.run_retention(store, stop, 30, on_purge=purged.append))
        while not purged:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(go())
    assert [p.articles for p in purged] == [3] and store.article_count() == 4


def test_sqlite_gives_the_purged_pages_back(sqlite_url):
    store = Store(sqlite_url)
    try:
        source = store.add_source("http://127.0.0.1/a.xml", name="A")
        store_entries(store, source.id, *(entry(f"old{n}", OLD + timedelta(minutes=n), "zeppelin") for n in range(40)))
        path = sqlite_url.removeprefix("sqlite:///")
        summary = retention.purge(store, retention.cutoff_for(30, NOW))
        assert summary.articles == 40 and summary.vacuum_mode == "incremental"
        assert summary.reclaimed_bytes > 40 * len(FILLER)
        assert store.free_space() == (0, "incremental")
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sqlite_gives_back_as_many_pages_as_asked_in_one_step(sqlite_url):
    with Store(sqlite_url) as store:
        source = store.add_source("http://127.0.0.1/a.xml", name="A")
        store_entries(store, source.id, *(entry(f"old{n}", OLD + timedelta(minutes=n), "zeppelin") for n in range(20)))
        while store.purge_batch(retention.cutoff_for(30, NOW), limit=5).articles:
            pass
        free, _ = store.free_space()
        page = sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).execute("PRAGMA page_size").fetchone()[0]
        assert free > 20 * page
        store.reclaim_space(pages=10)
        assert store.free_space()[0] == free - 10 * page


def test_an_existing_sqlite_database_is_switched_to_incremental_vacuum(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # made before auto_vacuum was set: it has tables already
        conn.execute("CREATE TABLE before_us (x)")
    store = Store(f"sqlite:///{path}")
    try:
        assert store.free_space()[1] == "none"
        store.enable_incremental_vacuum()
        assert store.free_space()[1] == "incremental"
    finally:
        store.close()


def test_a_refresh_leaves_out_entries_already_past_retention():
    entries = [entry("old", OLD, "zeppelin"), entry("new", RECENT, "harbour"),
               Entry(guid="undated", url=None, title="undated")]
    assert [e.guid for e in retention.still_kept(entries, 30, NOW)] == ["new", "undated"]
    assert retention.still_kept(entries, 0, NOW) == entries


@pytest.mark.parametrize("value", ["3", "-1", "a week", "1.5"])
def test_retention_days_must_be_a_week_or_more_or_zero(value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"NEWSWIRE_RETENTION_DAYS": value})
    assert "NEWSWIRE_RETENTION_DAYS" in str(caught.value)
    assert Settings.from_env({"NEWSWIRE_RETENTION_DAYS": "30"}).retention_days == 30
    assert Settings.from_env({"NEWSWIRE_RETENTION_DAYS": "0"}).retention_days == 0
    assert Settings.from_env({}).retention_days == 0


def test_a_purge_updates_the_unread_counts_a_process_keeps(store):
    """Counts are kept between asks (``reader_counts``); a purge of unread articles lowers them."""
    reader = create_user(store, "ada", "correct horse battery").id
    source = store.add_source("http://127.0.0.1/kept.xml", name="Kept")
    now = datetime.now(timezone.utc)
    store.save_refresh(source.id, SourceUpdate(fetched_at=now, status="ok", next_due_at=now + timedelta(hours=1)), [
        Entry(guid=f"k{n}", url=f"http://127.0.0.1/k/{n}", title=f"Kept {n}", published=now - timedelta(days=n * 20))
        for n in range(3)])
    assert store.unread_counts(reader) == {source.id: 3}
    store.purge_batch(now - timedelta(days=30))
    assert store.unread_counts(reader) == {source.id: 2}  # the one 40 days old went
