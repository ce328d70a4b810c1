"""Each reader's state in the store: read/unread, saved, mark all as read, unread counts, sync
streams, mute/follow and visits; every test on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newswire.accounts import create_user
from newswire.errors import NotFound
from newswire.models import Entry, SourceUpdate
from newswire.store import Store

T0 = datetime(2025, 9, 17, 12, 0, tzinfo=timezone.utc)


def entry(n: int, *, author: str = "Ada Lovelace", text: str = "harbour news") -> Entry:
    return Entry(guid=f"g{n}", url=f"http://127.0.0.1/a/{n}", title=f"Story {n}", authors=(author,),
                 published=T0 + timedelta(minutes=n), text=f"{text} {n}", snippet=text)


def refresh(store: Store, source_id: int, entries: list[Entry], at: datetime = T0) -> list[int]:
    """Store ``entries`` as one fetch at ``at``; their ids in order."""
    store.save_refresh(source_id, SourceUpdate(fetched_at=at, status="ok",
                                               next_due_at=at + timedelta(minutes=30)), entries)
    by_guid = {a.guid: a.id for a in store.list_articles(source_id=source_id, limit=200, include_copies=True).items}
    return [by_guid[e.guid] for e in entries]


@pytest.fixture
def world(store):
    """Two sources (news in "News/Canada", sport in "Sport") with three articles each, and two
    readers."""
    news = store.add_source("http://127.0.0.1/news.xml", name="News", category="News/Canada")
    sport = store.add_source("http://127.0.0.1/sport.xml", name="Sport", category="Sport")
    ids = {"news": refresh(store, news.id, [entry(1), entry(2), entry(3, author="Grace Hopper")]),
           "sport": refresh(store, sport.id, [entry(4, text="match"), entry(5, text="match"),
                                              entry(6, text="match")])}
    ada = create_user(store, "ada", "correct horse battery")
    bob = create_user(store, "bob", "correct horse battery")
    return store, news.id, sport.id, ids, ada.id, bob.id


def unread(store: Store, user: int) -> set[int]:
    return set(store.unread_ids(user))


def test_new_articles_are_unread_and_unsaved_for_everyone(world):
    store, news, sport, ids, ada, bob = world
    everything = set(ids["news"] + ids["sport"])
    for user in (ada, bob):
        assert store.article_states(user, sorted(everything)) == {i: (False, False) for i in everything}
        assert unread(store, user) == everything
        assert store.unread_counts(user) == {news: 3, sport: 3}
        assert store.saved_ids(user) == []


def test_mark_read_and_unread_again_is_per_reader(world):
    store, news, sport, ids, ada, bob = world
    first = ids["news"][0]
    store.mark_read(ada, [first, 10**9])  # an unknown id is ignored
    assert store.article_states(ada, [first]) == {first: (True, False)}
    assert store.article_states(bob, [first]) == {first: (False, False)}
    assert store.unread_counts(ada) == {news: 2, sport: 3}
    store.mark_read(ada, [first], read=False)
    assert store.unread_counts(ada) == {news: 3, sport: 3}


def test_saved_articles_newest_first_and_unsaved(world):
    store, news, sport, ids, ada, bob = world
    store.set_saved(ada, [ids["news"][0], ids["sport"][2]])
    store.set_saved(ada, [ids["news"][0]])  # twice: still once
    assert store.saved_ids(ada) == [ids["sport"][2], ids["news"][0]]
    assert store.article_states(ada, [ids["news"][0]]) == {ids["news"][0]: (False, True)}
    store.set_saved(ada, [ids["news"][0]], saved=False)
    assert store.saved_ids(ada) == [ids["sport"][2]]
    assert store.saved_ids(bob) == []


def test_mark_all_read_on_the_wire_is_one_watermark_and_keeps_later_articles_unread(world):
    store, news, sport, ids, ada, bob = world
    store.mark_read(ada, [ids["news"][0]], read=False)  # an exception the watermark overrides
    store.mark_all_read(ada, up_to_id=ids["sport"][2])
    assert unread(store, ada) == set()
    assert store.article_states(ada, ids["news"]) == {i: (True, False) for i in ids["news"]}
    assert store.items_for_sync(ada, read_only=True)[0] == (ids["news"] + ids["sport"])[::-1]
    later = refresh(store, news, [entry(7)], at=T0 + timedelta(hours=1))
    assert unread(store, ada) == set(later)
    assert store.unread_counts(ada) == {news: 1}
    assert store.unread_counts(bob) == {news: 4, sport: 3}
    store.mark_read(ada, ids["news"][:1], read=False)  # below the watermark: unread again
    assert unread(store, ada) == {*later, ids["news"][0]}
    assert store.unread_counts(ada) == {news: 2}


def test_mark_all_read_up_to_an_id_leaves_what_the_reader_did_not_see(world):
    store, news, sport, ids, ada, bob = world
    store.mark_all_read(ada, up_to_id=ids["sport"][0])
    assert unread(store, ada) == set(ids["sport"][1:])


def test_mark_all_read_up_to_a_time(world):
    store, news, sport, ids, ada, bob = world
    later = refresh(store, news, [entry(7)], at=T0 + timedelta(hours=1))
    store.mark_all_read(ada, up_to=T0 + timedelta(minutes=30))
    assert unread(store, ada) == set(later)
    store.mark_all_read(bob, source_id=news, up_to=T0)
    assert unread(store, bob) == {*later, *ids["sport"]}


def test_mark_all_read_by_source_and_category(world):
    store, news, sport, ids, ada, bob = world
    store.mark_all_read(ada, source_id=sport)
    assert store.unread_counts(ada) == {news: 3}
    store.mark_all_read(bob, category="News")  # "News/Canada" is within "News"
    assert store.unread_counts(bob) == {sport: 3}
    store.mark_all_read(bob, category="Spo")  # not a category: nothing
    assert store.unread_counts(bob) == {sport: 3}


def test_mark_all_read_by_author_story_and_search(world):
    store, news, sport, ids, ada, bob = world
    store.mark_all_read(ada, author="grace HOPPER")
    assert unread(store, ada) == set(ids["news"][:2] + ids["sport"])
    store.mark_all_read(ada, query="match", up_to_id=ids["sport"][1])
    assert unread(store, ada) == {*ids["news"][:2], ids["sport"][2]}
    store.mark_all_read(bob, query="!!!")  # no words: nothing
    assert len(unread(store, bob)) == 6


def test_mark_all_read_by_story(world):
    store, news, sport, ids, ada, bob = world
    story = store.get_article(ids["news"][0]).story_id
    if story is None:  # no clustering ran: a story id no article has marks nothing
        store.mark_all_read(ada, story_id=12345)
        assert len(unread(store, ada)) == 6
    else:
        store.mark_all_read(ada, story_id=story)
        assert ids["news"][0] not in unread(store, ada)


def test_items_for_sync_pages_a_stream_with_a_cursor(world):
    store, news, sport, ids, ada, bob = world
    everything = ids["news"] + ids["sport"]
    first, cursor = store.items_for_sync(ada, limit=4)
    assert first == everything[::-1][:4] and cursor
    rest, end = store.items_for_sync(ada, limit=4, before_cursor=cursor)
    assert rest == everything[::-1][4:] and end is None
    oldest, cursor = store.items_for_sync(ada, limit=2, oldest_first=True)
    assert oldest == everything[:2]
    assert store.items_for_sync(ada, limit=2, oldest_first=True, before_cursor=cursor)[0] == everything[2:4]


def test_items_for_sync_filters(world):
    store, news, sport, ids, ada, bob = world
    store.mark_read(ada, ids["news"][:1])
    store.set_saved(ada, ids["sport"][:1])
    assert store.items_for_sync(ada, source_id=news)[0] == ids["news"][::-1]
    assert store.items_for_sync(ada, category="News")[0] == ids["news"][::-1]
    assert store.items_for_sync(ada, source_id=news, unread_only=True)[0] == ids["news"][:0:-1]
    assert store.items_for_sync(ada, read_only=True)[0] == ids["news"][:1]
    assert store.items_for_sync(ada, saved_only=True)[0] == ids["sport"][:1]
    assert store.items_for_sync(ada, after_id=ids["sport"][1])[0] == ids["sport"][2:]
    assert store.items_for_sync(ada, newer_than=T0 + timedelta(minutes=5))[0] == ids["sport"][2:]
    assert store.items_for_sync(ada, older_than=T0 + timedelta(minutes=2))[0] == ids["news"][:1]
    with pytest.raises(ValueError):
        store.items_for_sync(ada, before_cursor="not a cursor")


def test_mute_and_follow_sources_authors_and_stories(world):
    store, news, sport, ids, ada, bob = world
    store.set_source_pref(ada, news, muted=True)
    store.set_source_pref(ada, sport, followed=True)
    store.set_author_pref(ada, "grace hopper", muted=True)
    store.set_author_pref(ada, "Ada Lovelace", followed=True)
    store.set_story_followed(ada, 77)
    prefs = store.reader_prefs(ada)
    assert (prefs.muted_sources, prefs.followed_sources) == ({news}, {sport})
    assert (prefs.muted_authors, prefs.followed_authors) == (("Grace Hopper",), ("Ada Lovelace",))
    assert prefs.followed_stories == {77}
    store.set_source_pref(ada, news, muted=False)
    store.set_author_pref(ada, "Grace Hopper", muted=False)
    store.set_story_followed(ada, 77, False)
    prefs = store.reader_prefs(ada)
    assert (prefs.muted_sources, prefs.muted_authors, prefs.followed_stories) == (set(), (), set())
    assert store.reader_prefs(bob).followed_sources == frozenset()
    with pytest.raises(NotFound):
        store.set_source_pref(ada, 999, muted=True)
    with pytest.raises(NotFound):
        store.set_author_pref(ada, "Nobody Atall", muted=True)


def test_a_visit_marks_what_arrived_since_the_previous_one(world):
    store, news, sport, ids, ada, bob = world
    newest = ids["sport"][2]
    assert store.record_visit(ada, T0) == newest  # the first visit: nothing is new
    later = refresh(store, news, [entry(7)], at=T0 + timedelta(minutes=10))
    assert store.record_visit(ada, T0 + timedelta(minutes=20)) == newest  # the same visit
    assert store.record_visit(ada, T0 + timedelta(minutes=20, seconds=10)) == newest  # not even written
    assert store.record_visit(ada, T0 + timedelta(hours=2)) == later[0]  # a new visit
    refresh(store, news, [entry(8)], at=T0 + timedelta(hours=3))
    assert store.record_visit(ada, T0 + timedelta(hours=4)) == later[0]


def test_state_goes_with_the_user_and_the_source(world):
    store, news, sport, ids, ada, bob = world
    store.mark_read(ada, ids["news"])
    store.set_saved(ada, ids["news"])
    store.set_source_pref(ada, news, muted=True)
    store.remove_source(news)
    assert store.saved_ids(ada) == [] and store.unread_counts(ada) == {sport: 3}
    store.mark_all_read(bob)
    store.set_saved(bob, ids["sport"])
    store.remove_user("bob")
    again = create_user(store, "bob", "correct horse battery")  # SQLite may reuse the id
    assert store.unread_counts(again.id) == {sport: 3} and store.saved_ids(again.id) == []


def test_a_readers_wire_leaves_out_what_they_muted(world):
    store, news, sport, ids, ada, bob = world
    store.set_source_pref(ada, sport, muted=True)
    store.set_author_pref(ada, "Grace Hopper", muted=True)
    wire = [a.id for a in store.list_articles(reader_id=ada).items]
    assert wire == ids["news"][1::-1]
    assert len(store.list_articles(reader_id=bob).items) == 6
    assert len(store.list_articles().items) == 6


def test_kept_unread_counts_follow_arrivals_marks_and_removals(world, database_url):
    """The counts a process keeps between calls (``reader_counts``) stay equal to counting afresh
    through new arrivals, marks by another process, and deletions."""
    store, news, sport, ids, ada, bob = world

    def fresh(user: int) -> dict[int, int]:
        with Store(database_url) as other:  # another process: nothing kept
            return other.unread_counts(user)

    assert store.unread_counts(ada) == {news: 3, sport: 3}
    later = refresh(store, news, [entry(7), entry(8)], at=T0 + timedelta(hours=1))
    assert store.unread_counts(ada) == {news: 5, sport: 3} == fresh(ada)
    with Store(database_url) as other:  # a mark made elsewhere
        other.mark_read(ada, [later[0], ids["sport"][0]])
    assert store.unread_counts(ada) == {news: 4, sport: 2} == fresh(ada)
    refresh(store, sport, [entry(9, text="match")], at=T0 + timedelta(hours=2))
    assert store.unread_counts(ada) == {news: 4, sport: 3} == fresh(ada)
    with Store(database_url) as other:
        other.mark_all_read(ada, source_id=news)
    assert store.unread_counts(ada) == {sport: 3} == fresh(ada)
    assert store.unread_counts(bob) == {news: 5, sport: 4}
    _delete(store, ids["sport"][1])
    assert store.unread_counts(bob) == {news: 5, sport: 3} == fresh(bob)


def test_kept_source_categories_follow_changes_made_elsewhere(world, database_url):
    """``Store.source_categories`` is kept between calls (sync apps ask with every unread count)
    and read again when another process adds, recategorises or removes a source."""
    store, news, sport, _, _, _ = world
    assert store.source_categories() == {news: "News/Canada", sport: "Sport"}
    with Store(database_url) as other:
        other.change_source(sport, {"category": "Sport/Hockey"})
    assert store.source_categories() == {news: "News/Canada", sport: "Sport/Hockey"}
    with Store(database_url) as other:
        blog = other.add_source("http://127.0.0.1/blog.xml", name="Blog").id
        other.change_source(news, {"name": "The News"})  # not a category: nothing to read again
    assert store.source_categories() == {news: "News/Canada", sport: "Sport/Hockey", blog: None}
    with Store(database_url) as other:
        other.remove_source(blog)
    assert store.source_categories() == {news: "News/Canada", sport: "Sport/Hockey"}


def _delete(store: Store, article_id: int) -> None:
    """Delete an article as retention does, saying so (``reader_counts.note_removal``)."""
    import sqlalchemy as sa
    from newswire.store import reader_counts
    from newswire.store.tables import article_authors, articles
    with store._write() as conn:
        conn.execute(sa.delete(article_authors).where(article_authors.c.article_id == article_id))
        conn.execute(sa.delete(articles).where(articles.c.id == article_id))
        reader_counts.note_removal(conn)
