"""Each reader's own newswire over HTTP: opening marks read, marks on the wire, save and
/saved with its feed, mark all as read for a view, mute and follow, new since the last visit;
refusals for anonymous users, bad input and forms without the CSRF token. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from newswire import accounts
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.signin import sign_in
from newswire.web import create_app
from newswire.web.reader import MUTATING_PATHS
from test_reader_state import entry, refresh

JSON = {"Accept": "application/json"}


@pytest.fixture
def site(store):
    """Two sources of three articles; an anonymous client and a reader signed in."""
    news = store.add_source("http://127.0.0.1/news.xml", name="Daily News", category="News")
    sport = store.add_source("http://127.0.0.1/sport.xml", name="Sport Times")
    ids = {"news": refresh(store, news.id, [entry(1), entry(2), entry(3, author="Grace Hopper")]),
           "sport": refresh(store, sport.id, [entry(4, text="match"), entry(5, text="match"), entry(6)])}
    app = create_app(store, LOOPBACK)
    with TestClient(app, base_url="http://localhost") as anonymous, \
            TestClient(app, base_url="http://localhost") as client:
        user = sign_in(client, store, "ada", admin=False)
        yield store, client, anonymous, user, news.id, sport.id, ids


def item_classes(html: str) -> dict[int, str]:
    """Item id → its reader marks ("is-read", "is-saved", "is-unseen"), from its attributes."""
    found = {}
    for i, attributes in re.findall(r'<li class="wire-item" id="item-(\d+)"([^>]*)>', html):
        marks = [name for name, attribute in (("is-read", 'data-read="1"'), ("is-saved", 'data-saved="1"'),
                                              ("is-unseen", "data-unseen")) if attribute in attributes]
        found[int(i)] = " ".join(marks)
    return found


def test_anonymous_visitors_see_the_wire_as_before(site):
    store, client, anonymous, user, news, sport, ids = site
    page = anonymous.get("/").text
    assert "reader-actions" not in page and "/read-all" not in page and len(item_classes(page)) == 6
    assert anonymous.get("/saved", follow_redirects=False).headers["location"].startswith("/login")
    assert anonymous.get("/saved/feed.atom").status_code == 401
    for path in MUTATING_PATHS:
        answer = anonymous.post(path.replace("{article_id}", "1").replace("{source_id}", "1")
                                .replace("{story_id}", "1").replace("{name:path}", "x"), data={})
        assert answer.status_code == 401, path


def test_opening_an_article_marks_it_read_on_the_wire(site):
    store, client, anonymous, user, news, sport, ids = site
    first = ids["news"][0]
    assert "is-read" not in item_classes(client.get("/").text)[first]
    assert client.get(f"/articles/{first}").status_code == 200
    assert "is-read" in item_classes(client.get("/").text)[first]
    assert store.article_states(user.id, [first]) == {first: (True, False)}
    anonymous.get(f"/articles/{ids['news'][1]}")  # nobody's state
    assert "is-read" not in item_classes(client.get("/").text)[ids["news"][1]]


def test_read_and_save_by_form_and_by_script(site):
    store, client, anonymous, user, news, sport, ids = site
    one, two = ids["sport"][0], ids["sport"][1]
    page = client.get("/").text  # without script: each button submits the page's one form
    assert '<form id="reader-item-form" method="post" hidden>' in page
    assert f'form="reader-item-form" formaction="/articles/{one}/save" name="saved" value="1"' in page
    assert 'href="/saved"' in page and 'href="/saved"' not in anonymous.get("/").text
    back = client.post(f"/articles/{one}/read", data={"read": "1", "next": "/sources/2"}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/sources/2"
    assert client.post(f"/articles/{one}/read", data={"read": "0"}, headers=JSON).json() == {
        "ok": True, "id": one, "read": False}
    assert client.post(f"/articles/{two}/save", data={"saved": "1"}, headers=JSON).json()["saved"] is True
    assert store.article_states(user.id, [one, two]) == {one: (False, False), two: (False, True)}
    offsite = client.post(f"/articles/{one}/read", data={"next": "//evil.example/"}, follow_redirects=False)
    assert offsite.headers["location"] == "/"


def test_saved_page_and_its_feed_with_a_token(site):
    store, client, anonymous, user, news, sport, ids = site
    client.post(f"/articles/{ids['news'][2]}/save", data={"saved": "1"})
    page = client.get("/saved")
    assert page.status_code == 200 and "is-saved" in item_classes(page.text)[ids["news"][2]]
    token = accounts.create_token(store, user.id, "feed reader")
    feed = anonymous.get("/saved/feed.atom", params={"token": token})
    assert feed.status_code == 200 and "Story 3" in feed.text and "Story 1" not in feed.text
    assert feed.headers["cache-control"].startswith("private")
    client.post(f"/articles/{ids['news'][2]}/save", data={"saved": "0"})
    assert "Nothing saved yet" in client.get("/saved").text


def test_mark_all_read_covers_only_what_the_page_showed(site):
    store, client, anonymous, user, news, sport, ids = site
    shown = re.search(r'name="up_to_id" value="(\d+)"', client.get("/").text).group(1)
    later = refresh(store, news, [entry(7)], at=datetime.now(timezone.utc))
    assert client.post("/read-all", data={"up_to_id": shown}, follow_redirects=False).status_code == 303
    assert store.unread_ids(user.id) == later
    classes = item_classes(client.get("/").text)
    assert "is-read" not in classes[later[0]] and "is-read" in classes[ids["news"][0]]


@pytest.mark.parametrize("scope, unread_left", [
    ({"source": "SPORT"}, "news"),
    ({"author": "Grace Hopper"}, "all but 3"),
    ({"q": "match"}, "all but 4 and 5"),
    ({"category": "News"}, "sport"),
])
def test_mark_all_read_for_a_source_an_author_and_a_search(site, scope, unread_left):
    store, client, anonymous, user, news, sport, ids = site
    everything = ids["news"] + ids["sport"]
    scope = {k: (str(sport) if v == "SPORT" else v) for k, v in scope.items()}
    client.post("/read-all", data={**scope, "up_to_id": str(max(everything))})
    expected = {"news": ids["news"], "sport": ids["sport"], "all but 3": [i for i in everything if i != ids["news"][2]],
                "all but 4 and 5": [i for i in everything if i not in ids["sport"][:2]]}[unread_left]
    assert sorted(store.unread_ids(user.id)) == sorted(expected)


def test_the_read_all_form_is_on_each_view(site):
    store, client, anonymous, user, news, sport, ids = site
    assert 'name="source" value="%d"' % news in client.get(f"/sources/{news}").text
    assert 'name="author" value="Grace Hopper"' in client.get("/authors/Grace Hopper").text
    assert 'name="q" value="match"' in client.get("/search", params={"q": "match"}).text
    assert 'name="category" value="News"' in client.get("/categories/News").text


def test_mute_and_follow_a_source_and_an_author(site):
    store, client, anonymous, user, news, sport, ids = site
    assert "Mute this source" in client.get(f"/sources/{sport}").text
    client.post(f"/prefs/sources/{sport}", data={"muted": "1"})
    client.post("/prefs/authors/Grace Hopper", data={"muted": "1"})
    wire = item_classes(client.get("/").text)
    assert sorted(wire) == ids["news"][:2]
    assert len(item_classes(anonymous.get("/").text)) == 6  # the shared wire is unchanged
    assert "Unmute this source" in client.get(f"/sources/{sport}").text
    client.post(f"/prefs/sources/{news}", data={"followed": "1"})
    assert sorted(item_classes(client.get("/following").text)) == ids["news"]
    assert "Following ✓" in client.get(f"/sources/{news}").text


def test_new_since_the_last_visit(site):
    store, client, anonymous, user, news, sport, ids = site
    assert "data-unseen" not in client.get("/").text  # a first visit: nothing is new
    store.record_visit(user.id, datetime.now(timezone.utc) - timedelta(hours=3))  # that visit ended long ago
    later = refresh(store, news, [entry(7)], at=datetime.now(timezone.utc))
    page = client.get("/").text
    assert "1 new since your last visit" in page
    assert [i for i, c in item_classes(page).items() if "is-unseen" in c] == later


def test_bad_input_is_a_4xx(site):
    store, client, anonymous, user, news, sport, ids = site
    assert client.post(f"/articles/{ids['news'][0]}/read", data={"read": "yes"}).status_code == 400
    assert client.post("/articles/abc/read", data={}).status_code == 404
    assert client.post("/articles/99999999999/save", data={}).status_code == 404
    assert client.post("/read-all", data={}).status_code == 400
    assert client.post("/read-all", data={"up_to_id": "1", "source": "x"}).status_code == 400
    assert client.post("/prefs/sources/999", data={"muted": "1"}).status_code == 404
    assert client.post("/prefs/authors/Nobody At All", data={"muted": "1"}).status_code == 404
    assert client.post("/prefs/authors/" + "x" * 300, data={"muted": "1"}).status_code == 404


def test_forms_without_the_csrf_token_are_refused(site):
    store, client, anonymous, user, news, sport, ids = site
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/articles/{ids['news'][0]}/save", data={"saved": "1"}).status_code == 403
    assert store.saved_ids(user.id) == []


def test_a_bearer_token_reads_and_marks(site):
    store, client, anonymous, user, news, sport, ids = site
    token = accounts.create_token(store, user.id, "script")
    answer = anonymous.post(f"/articles/{ids['news'][0]}/save", headers={"Authorization": f"Bearer {token}", **JSON})
    assert answer.status_code == 200 and store.saved_ids(user.id) == ids["news"][:1]


def test_unknown_article_ids_change_nothing(site):
    store, client, anonymous, user, news, sport, ids = site
    assert client.post("/articles/424242/read", data={}, headers=JSON).status_code == 200
    assert store.unread_counts(user.id) == {news: 3, sport: 3}


def test_state_is_per_reader(site, store: Store):
    store_, client, anonymous, user, news, sport, ids = site
    client.post("/read-all", data={"up_to_id": str(max(ids["news"] + ids["sport"]))})
    other = accounts.create_user(store, "bob", "correct horse battery")
    assert len(store.unread_ids(other.id)) == 6 and store.unread_ids(user.id) == []


def test_the_sources_page_counts_what_the_reader_has_not_read(site):
    store, client, anonymous, user, news, sport, ids = site
    client.get(f"/articles/{ids['news'][0]}")
    client.post(f"/prefs/sources/{sport}", data={"muted": "1"})
    page = client.get("/sources").text
    counts = re.findall(r'<tr id="source-(\d+)".*?data-unread="(\d+)"', page, flags=re.S)
    assert dict(counts) == {str(news): "2", str(sport): "3"} and "(muted)" in page
    assert "data-unread" not in anonymous.get("/sources").text


def test_kept_item_html_follows_each_readers_state_and_the_item(site, store: Store):
    """Rendered items are kept (``view.ItemFragments``) by everything they show: one reader's
    marks never show on another's wire, and a changed item is rendered again."""
    store_, client, anonymous, user, news, sport, ids = site
    first = ids["sport"][0]
    client.get(f"/articles/{first}")
    with TestClient(create_app(store, LOOPBACK), base_url="http://localhost") as bob:
        sign_in(bob, store, "bob", admin=False)
        for _ in range(2):
            assert "is-read" in item_classes(client.get("/").text)[first]
            assert "is-read" not in item_classes(bob.get("/").text)[first]
            assert item_classes(anonymous.get("/").text)[first] == ""
    refresh(store, sport, [dataclasses.replace(entry(4, text="match"), title="Story 4, updated")])
    assert "Story 4, updated" in anonymous.get("/").text


def test_a_readers_wire_page_is_one_read_transaction(site):
    """The signed-in wire's reads (newest id, listing, copies, coverage, marks, visit) share one
    transaction (``Store.snapshot``); besides it only the session lookup reads, and the visit is
    written at most once a minute. A count, not a timing: each transaction was about a third of
    a millisecond on SQLite at a million articles."""
    import sqlalchemy as sa
    store, client, *_ = site
    assert client.get("/").status_code == 200  # the first visit is written
    begun: list[object] = []
    note = begun.append
    sa.event.listen(store._engine, "begin", note)
    try:
        for path in ("/", "/?source=1", "/authors/Grace%20Hopper"):
            begun.clear()
            assert client.get(path).status_code == 200
            assert len(begun) <= 2, (path, len(begun))
    finally:
        sa.event.remove(store._engine, "begin", note)
