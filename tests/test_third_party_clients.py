"""Two client libraries other people wrote, driven against a real server on 127.0.0.1: libgreader
(a Google Reader API client, pointed at the FreshRSS-style path ``/api/greader.php``) and
freshrss-api (a Fever client, which assumes ``/api/fever.php``). Our own test clients follow the
published descriptions; these follow what a third party understood of them, so they catch what
we read differently (a token with a trailing newline, an id form, a missing field)."""

from __future__ import annotations

from typing import Iterator

import freshrss_api
import libgreader
import pytest
from greader_client import PASSWORD, serving_two_readers
from test_greader_streams import Seeded

from newswire.store import Store
from newswire.testing.webserver import WebServer

from libgreader.auth import ClientAuthMethod
from libgreader.url import ReaderUrl

URLS = {  # ReaderUrl's constants, made once from Google's base; an app sets its server's
    "API_URL": "", "ACTION_TOKEN_URL": "token", "USER_INFO_URL": "user-info",
    "SUBSCRIPTION_LIST_URL": "subscription/list", "SUBSCRIPTION_EDIT_URL": "subscription/edit",
    "UNREAD_COUNT_URL": "unread-count", "CONTENT_BASE_URL": "stream/contents/", "FEED_URL": "stream/contents/",
    "CATEGORY_URL": "stream/contents/user/-/label/", "EDIT_TAG_URL": "edit-tag",
    "MARK_ALL_READ_URL": "mark-all-as-read",
}


@pytest.fixture
def server(store: Store) -> Iterator[tuple[WebServer, Seeded]]:
    seeded = Seeded(store)
    with serving_two_readers(store) as web:
        yield web, seeded


@pytest.fixture
def google_reader(server: tuple[WebServer, Seeded], monkeypatch: pytest.MonkeyPatch) -> "libgreader.GoogleReader":
    base = server[0].base_url + "/api/greader.php"
    for name, path in URLS.items():
        monkeypatch.setattr(ReaderUrl, name, f"{base}/reader/api/0/{path}")
    monkeypatch.setattr(ClientAuthMethod, "CLIENT_URL", f"{base}/accounts/ClientLogin")
    return libgreader.GoogleReader(ClientAuthMethod("ben", PASSWORD))


def test_libgreader_lists_reads_pages_marks_and_stars(server, google_reader) -> None:
    _, seeded = server
    reader = google_reader
    reader.makeSpecialFeeds()
    assert reader.buildSubscriptionList()
    feeds = {feed.title: feed for feed in reader.getFeeds()}
    assert set(feeds) == {"The Gazette", "The Post"}
    assert (feeds["The Gazette"].unread, feeds["The Post"].unread) == (5, 2)
    assert [c.label for c in reader.getCategories()] == ["Local/City"]
    # (its reading-list count looks for "user/<userId>/…", as Google answered; FreshRSS and
    # Miniflux answer "user/-/…", as we do, and that is what today's apps read)

    reading = reader.getSpecialFeed(ReaderUrl.READING_LIST)
    reading.loadItems(loadLimit=3)
    while reading.continuation:  # page through with the continuation it was given
        reading.loadMoreItems(loadLimit=3)
    items = reading.getItems()
    assert sorted(item.title for item in items) == sorted(f"Story {guid}" for guid in seeded.ids)
    assert all(item.url and item.feed and item.feed.title for item in items)
    newest = items[0]
    assert newest.title == "Story p2" and not newest.read

    assert newest.markRead()
    assert newest.markStarred()
    reader.buildSubscriptionList()
    assert {feed.title: feed.unread for feed in reader.getFeeds()} == {"The Gazette": 5, "The Post": 1}
    starred = reader.getSpecialFeed(ReaderUrl.STARRED_LIST)
    starred.loadItems()
    assert [item.title for item in starred.getItems()] == ["Story p2"]
    assert starred.getItems()[0].read and starred.getItems()[0].starred

    gazette = next(feed for feed in reader.getFeeds() if feed.title == "The Gazette")
    assert gazette.markAllRead()
    reader.buildSubscriptionList()
    assert {feed.title: feed.unread for feed in reader.getFeeds()} == {"The Gazette": 0, "The Post": 1}
    gazette.loadItems(excludeRead=True)
    assert gazette.getItems() == []


def test_freshrss_api_fever_client_reads_and_marks(server) -> None:
    web, seeded = server
    api = freshrss_api.FreshRSSAPI(host=web.base_url, username="ben", password=PASSWORD, verify_ssl=False)
    titles = {feed["title"] for feed in api.get_feeds()["feeds"]}
    assert titles == {"The Gazette", "The Post"}
    assert "Local/City" in {group["title"] for group in api.get_groups()["groups"]}

    unread = api.get_unreads()
    assert sorted(item.id for item in unread) == sorted(seeded.ids.values())
    first = unread[0]
    assert first.title.startswith("Story ") and first.url and first.author == "Ada Moreau"
    assert not first.is_read and not first.is_saved

    api.set_mark("read", first.id)
    api.set_mark("saved", first.id)
    assert first.id not in {item.id for item in api.get_unreads()}
    saved = api.get_saved()
    assert [item.id for item in saved] == [first.id] and saved[0].is_read and saved[0].is_saved
    api.set_mark("unsaved", first.id)
    assert api.get_saved() == []

    with pytest.raises(freshrss_api.AuthenticationError):
        freshrss_api.FreshRSSAPI(host=web.base_url, username="ben", password="not the password")
