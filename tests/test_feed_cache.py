"""Feeds out kept rendered in the process (``web.feed_cache``): a repeated request for an unchanged
feed reads only the listing's stamps, never the articles' content, and renders nothing; every
change a reader would see makes the next response differ; the cache stays within its bounds.
Counted in statements, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from newswire import accounts
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.web import create_app, feeds
from newswire.web.feed_cache import FeedCache, Rendered
from test_api import T0, entry, ok, seed

FEED_PATHS = ["/feed.atom", "/feed.rss", "/feed.json", "/feed.atom?q=harbour", "/feed.json?source={post}",
              "/sources/{gazette}/feed.rss", "/authors/Ada%20Moreau/feed.atom", "/categories/Local/feed.json",
              "/stories/{story}/feed.atom"]
LATER = T0 + timedelta(hours=2)


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every statement the store's engine runs meanwhile."""
    seen: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        seen.append(statement)

    sa.event.listen(store._engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(store._engine, "before_cursor_execute", record)


def loads_articles(seen: list[str]) -> list[str]:
    """The statements that read articles' content, or their bylines' and categories' names:
    what a kept rendering saves."""
    return [s for s in seen if re.search(r"content_html|page_html", s)
            or re.match(r"\s*SELECT article_(authors|categories)\.article_id, (authors|categories)\.name", s)]


def seeded(store: Store) -> dict[str, int]:
    ids = seed(store)
    story = store.create_story("Harbour vote", T0)
    store.assign_stories([(a.id, story) for a in store.list_articles(limit=10).items])
    return {**ids, "story": story}


@pytest.mark.parametrize("path", FEED_PATHS)
def test_a_repeated_request_reads_no_article_and_answers_the_same(store, client, path):
    path = path.format(**seeded(store))
    with statements(store) as rendering:
        first = client.get(path)
    assert first.status_code == 200, first.text
    assert loads_articles(rendering) != []
    with statements(store) as seen:
        again = client.get(path)
    assert len(seen) < len(rendering)
    with statements(store) as validated:
        not_modified = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    seen += validated
    assert again.status_code == 200 and again.content == first.content
    assert (again.headers["etag"], again.headers["last-modified"]) == (first.headers["etag"],
                                                                       first.headers["last-modified"])
    assert not_modified.status_code == 304
    assert loads_articles(seen) == [], seen


def test_the_saved_feed_is_kept_per_reader_and_follows_their_saves(store, client):
    seed(store)
    user = accounts.create_user(store, "reader", "a long enough password")
    token = accounts.create_token(store, user.id, "feeds")
    first_id = store.list_articles(limit=10).items[-1].id
    store.set_saved(user.id, [first_id])
    path = f"/saved/feed.atom?token={token}"
    first = client.get(path)
    assert first.status_code == 200 and first.text.count("<entry") == 1
    with statements(store) as seen:
        assert client.get(path).content == first.content
    assert loads_articles(seen) == []
    store.set_saved(user.id, [a.id for a in store.list_articles(limit=10).items])
    assert client.get(path).text.count("<entry") == 4


def changes(store: Store, ids: dict[str, int]) -> dict[str, object]:
    """Name → a change a reader of the wire's feed would see."""
    newest = store.list_articles(limit=1).items[0]
    return {
        "a new article": lambda: store.save_refresh(ids["post"], ok(LATER), [entry("b2", 30, text="ferry news")]),
        "an updated article": lambda: store.save_refresh(
            ids["post"], ok(LATER), [entry("b1", 4, ("ada  MOREAU",), text="harbour ferry vote, amended")]),
        "its page's text stored": lambda: store.save_extraction(newest.id, "<p>the whole page</p>", "the whole page"),
        "a renamed source": lambda: store.change_source(ids["gazette"], {"name": "The Evening Gazette"}),
        "a syndicated copy found": lambda: store.set_duplicate_of([(newest.id, newest.id - 1)]),
        "a source removed": lambda: store.remove_source(ids["post"]),
    }


CHANGES = ["a new article", "an updated article", "its page's text stored", "a renamed source",
           "a syndicated copy found", "a source removed"]


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
@pytest.mark.parametrize("change", CHANGES)
def test_a_change_makes_the_next_response_differ(store, client, change, fmt):
    ids = seed(store)
    first = client.get(f"/feed.{fmt}")
    assert client.get(f"/feed.{fmt}").content == first.content  # kept
    changes(store, ids)[change]()
    after = client.get(f"/feed.{fmt}", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.content != first.content
    uncached = TestClient(create_app(store, LOOPBACK, bound_hosts=("testserver",))).get(f"/feed.{fmt}")
    assert after.content == uncached.content  # what a process that kept nothing serves


def test_an_id_stored_again_is_not_taken_for_the_article_that_had_it(store, client):
    """SQLite hands the newest article's id out again once it is deleted: a source removed and
    followed again stores its entry under the same id, with the same times but other text."""
    ids = seed(store)
    first = client.get("/feed.atom")
    newest = store.list_articles(limit=1).items[0]
    store.remove_source(ids["post"])
    again = store.add_source("http://example.test/post.xml", name="The Post")
    store.save_refresh(again.id, ok(), [entry("b1", 4, ("ada  MOREAU",), text="another text altogether")])
    if store.list_articles(limit=1).items[0].id != newest.id:
        pytest.skip("this engine gave the article a new id")
    body = client.get("/feed.atom").text
    assert body != first.text and "another text altogether" in body


def test_the_sources_feed_follows_a_rename_in_its_title_and_items(store, client):
    ids = seed(store)
    path = f"/sources/{ids['gazette']}/feed.atom"
    assert "The Gazette" in client.get(path).text
    store.change_source(ids["gazette"], {"name": "The Evening Gazette"})
    body = client.get(path).text
    assert "The Evening Gazette" in body and "The Gazette<" not in body


def test_a_story_feed_follows_its_title(store, client):
    ids = seeded(store)
    path = f"/stories/{ids['story']}/feed.json"
    assert client.get(path).json()["title"] == "Newswire — Harbour vote"
    store.assign_stories([], titles={ids["story"]: "Harbour vote passes"})
    assert client.get(path).json()["title"] == "Newswire — Harbour vote passes"


def test_each_worker_process_keeps_its_own_and_sees_the_others_writes(database_url):
    """Two apps on two stores over one database, as two ``serve --workers`` processes: a write
    through one is served by both at their next request."""
    with Store(database_url) as one, Store(database_url) as two:
        ids = seed(one)
        clients = [TestClient(create_app(s, LOOPBACK, bound_hosts=("testserver",))) for s in (one, two)]
        before = [c.get("/feed.json").json() for c in clients]
        assert before[0] == before[1] and len(before[0]["items"]) == 4
        two.save_refresh(ids["post"], ok(LATER), [entry("b2", 30)])
        for c in clients:
            assert [i["title"] for i in c.get("/feed.json").json()["items"]][0] == "Story b2"


def test_links_from_another_host_are_rendered_for_it(store, client):
    seed(store)
    assert "http://testserver/" in client.get("/feed.atom").text
    other = client.get("/feed.atom", headers={"Host": "localhost"}).text
    assert "http://localhost/" in other and "http://testserver/" not in other


def rendered(size: int) -> Rendered:
    return Rendered(b"x" * size, '"e"', datetime(2025, 1, 1, tzinfo=timezone.utc))


def test_the_cache_is_bounded_by_entries_and_bytes_least_recently_used_out_first():
    cache = FeedCache(max_entries=3, max_bytes=1000)
    for name in "abc":
        cache.put(name, 1, rendered(100))
    assert cache.get("a", 1) is not None  # a is now the most recent
    cache.put("d", 1, rendered(100))
    assert (len(cache), cache.get("b", 1)) == (3, None)
    cache.put("e", 1, rendered(240))
    cache.put("f", 1, rendered(240))
    cache.put("g", 1, rendered(240))
    assert cache.size <= 1000 and len(cache) <= 3
    cache.put("huge", 1, rendered(251))  # over a quarter of the bytes: not kept
    assert cache.get("huge", 1) is None and cache.size <= 1000


def test_an_outdated_rendering_is_dropped_not_served():
    cache = FeedCache()
    cache.put("wire", ("stamps", 1), rendered(10))
    assert cache.get("wire", ("stamps", 2)) is None
    assert (len(cache), cache.size) == (0, 0)
    assert cache.get("wire", ("stamps", 1)) is None


def test_the_feeds_out_use_the_apps_cache(store, client):
    seed(store)
    cache = client.app.state.feed_cache
    client.get("/feed.atom")
    client.get("/feed.atom")
    assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)
    assert feeds.FEED_SIZE == 50
