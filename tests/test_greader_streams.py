"""The Google Reader API's streams and each reader's state, driven over real HTTP on 127.0.0.1
step by step as an app syncs: unread counts, the reading list paged with continuations, items
by long and short id, marking read and starring with edit-tag, excluding read items, feeds and
labels, mark-all-as-read with ts; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from greader_client import PASSWORD, READ, READING_LIST, STARRED, GReader, serving_two_readers, signed_in

from newswire.models import Entry, SourceUpdate
from newswire.store import Store
from newswire.testing.webserver import WebServer

T0 = datetime(2025, 9, 17, 18, 0, tzinfo=timezone.utc)
SEEN_1 = T0 + timedelta(hours=1)   # when the first refresh found the Gazette's articles
SEEN_2 = T0 + timedelta(hours=2)   # and the second found the Post's


def entry(guid: str, minutes: int) -> Entry:
    return Entry(guid=guid, url=f"http://127.0.0.1:9/{guid}", title=f"Story {guid}", authors=("Ada Moreau",),
                 published=T0 + timedelta(minutes=minutes), summary=f"Summary of {guid}",
                 content_html=f"<p>Body of {guid}</p>", text=f"Body of {guid}")


def refreshed(at: datetime) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="ok", next_due_at=at + timedelta(minutes=30))


class Seeded:
    """The Gazette (category Local/City, articles g1…g5 published a minute apart) and the Post
    (no category, p1 and p2, published after them)."""

    def __init__(self, store: Store):
        self.gazette = store.add_source("http://127.0.0.1:9/gazette.xml", name="The Gazette",
                                        site_url="http://127.0.0.1:9/", category="Local/City")
        self.post = store.add_source("http://127.0.0.1:9/post.xml", name="The Post")
        store.save_refresh(self.gazette.id, refreshed(SEEN_1), [entry(f"g{n}", n) for n in range(1, 6)])
        store.save_refresh(self.post.id, refreshed(SEEN_2), [entry("p1", 10), entry("p2", 11)])
        self.ids = {a.guid: a.id for a in store.list_articles(limit=50, include_copies=True).items}

    def guids(self, ids: list[int]) -> list[str]:
        names = {v: k for k, v in self.ids.items()}
        return [names[i] for i in ids]


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return Seeded(store)


@pytest.fixture
def server(store: Store, seeded: Seeded) -> Iterator[WebServer]:
    with serving_two_readers(store) as web:
        yield web




@pytest.fixture
def ben(server: WebServer) -> Iterator[GReader]:
    with signed_in(server, "ben") as app:
        yield app


def test_an_app_syncs_step_by_step(seeded: Seeded, ben: GReader) -> None:
    gazette, post, label = f"feed/{seeded.gazette.id}", f"feed/{seeded.post.id}", "user/-/label/Local/City"

    # 1. unread counts: everything is unread for a new reader
    assert ben.unread() == {gazette: 5, post: 2, label: 5, READING_LIST: 7}

    # 2. the reading list's ids, two at a time, newest published first
    assert seeded.guids(ben.all_ids(READING_LIST, n=2)) == ["p2", "p1", "g5", "g4", "g3", "g2", "g1"]

    # 3. the same stream's contents, paged with the continuation the server gives
    first = ben.stream(READING_LIST, n=3)
    assert [item["title"] for item in first["items"]] == ["Story p2", "Story p1", "Story g5"]
    second = ben.stream(READING_LIST, n=3, c=first["continuation"])
    assert [item["title"] for item in second["items"]] == ["Story g4", "Story g3", "Story g2"]
    last = ben.stream(READING_LIST, n=3, c=second["continuation"])
    assert [item["title"] for item in last["items"]] == ["Story g1"] and "continuation" not in last

    # 4. mark two read, one by its short id, one by its long id
    g5, p1 = seeded.ids["g5"], seeded.ids["p1"]
    assert ben.edit_tag([str(g5), f"tag:google.com,2005:reader/item/{p1:016x}"], add=READ).text == "OK"
    assert ben.unread() == {gazette: 4, post: 1, label: 4, READING_LIST: 5}
    unread = ben.all_ids(READING_LIST, n=3, xt=READ)
    assert seeded.guids(unread) == ["p2", "g4", "g3", "g2", "g1"]
    assert sorted(seeded.guids(ben.all_ids(READ))) == ["g5", "p1"]
    read_items = ben.stream(READING_LIST, n=3)["items"]
    assert [READ in item["categories"] for item in read_items] == [False, True, True]

    # 5. star one; the starred stream lists it; unstar it
    ben.edit_tag([str(seeded.ids["g2"])], add=STARRED)
    assert seeded.guids(ben.all_ids(STARRED)) == ["g2"]
    starred = ben.stream(STARRED)["items"]
    assert len(starred) == 1 and STARRED in starred[0]["categories"]
    ben.edit_tag([str(seeded.ids["g2"])], remove=STARRED)
    assert ben.all_ids(STARRED) == []

    # 6. unread again
    ben.edit_tag([str(g5)], remove=READ)
    assert ben.unread()[READING_LIST] == 6

    # 7. mark the Gazette read up to the first refresh's time (ts in microseconds)
    before = int((SEEN_1 - timedelta(seconds=1)).timestamp() * 1_000_000)
    assert ben.post("/reader/api/0/mark-all-as-read", {"s": gazette, "ts": before}).text == "OK"
    assert ben.unread()[gazette] == 5  # nothing was seen that early
    at = int(SEEN_1.timestamp() * 1_000_000)
    ben.post("/reader/api/0/mark-all-as-read", {"s": gazette, "ts": at})
    assert ben.unread() == {post: 1, READING_LIST: 1}


def test_items_carry_what_apps_show(seeded: Seeded, ben: GReader) -> None:
    item = ben.stream(f"feed/{seeded.gazette.id}", n=1)["items"][0]
    g5 = seeded.ids["g5"]
    assert item["id"] == f"tag:google.com,2005:reader/item/{g5:016x}"
    assert item["title"] == "Story g5" and item["author"] == "Ada Moreau"
    assert item["canonical"] == [{"href": "http://127.0.0.1:9/g5"}]
    assert item["alternate"] == [{"href": "http://127.0.0.1:9/g5", "type": "text/html"}]
    assert item["summary"]["content"] == "<p>Body of g5</p>"
    assert item["published"] == int((T0 + timedelta(minutes=5)).timestamp())
    assert item["timestampUsec"] == str(int(SEEN_1.timestamp()) * 1_000_000)
    assert item["crawlTimeMsec"] == str(int(SEEN_1.timestamp()) * 1000)
    assert item["origin"] == {"streamId": f"feed/{seeded.gazette.id}", "title": "The Gazette",
                              "htmlUrl": "http://127.0.0.1:9/"}
    assert item["categories"] == [READING_LIST, "user/-/label/Local/City"]


def test_items_by_long_and_short_ids_in_the_order_asked(seeded: Seeded, ben: GReader) -> None:
    g1, p2 = seeded.ids["g1"], seeded.ids["p2"]
    for method in ("get", "post"):
        pairs = [("i", f"tag:google.com,2005:reader/item/{p2:016x}"), ("i", str(g1)), ("i", "999999")]
        response = (ben.get("/reader/api/0/stream/items/contents", pairs) if method == "get"
                    else ben.post("/reader/api/0/stream/items/contents", pairs, token=False))
        assert response.status_code == 200, response.text
        assert [item["title"] for item in response.json()["items"]] == ["Story p2", "Story g1"]


def test_feeds_labels_order_and_time_bounds(seeded: Seeded, ben: GReader) -> None:
    by_url = ben.all_ids("feed/http://127.0.0.1:9/post.xml")
    assert seeded.guids(by_url) == ["p2", "p1"]
    assert ben.all_ids("feed/http://127.0.0.1:9/unknown.xml") == []
    assert seeded.guids(ben.all_ids("user/-/label/Local/City", n=10)) == ["g5", "g4", "g3", "g2", "g1"]
    assert seeded.guids(ben.all_ids("user/-/label/Local", n=10)) == ["g5", "g4", "g3", "g2", "g1"]
    assert seeded.guids(ben.all_ids(READING_LIST, n=3, r="o")) == ["g1", "g2", "g3", "g4", "g5", "p1", "p2"]
    after_g3 = int((T0 + timedelta(minutes=3)).timestamp())
    before_p2 = int((T0 + timedelta(minutes=11)).timestamp())
    assert seeded.guids(ben.all_ids(READING_LIST, ot=after_g3, nt=before_p2)) == ["p1", "g5", "g4"]
    contents = ben.stream("user/1/state/com.google/reading-list", n=2, r="o")  # the user named, not "-"
    assert [item["title"] for item in contents["items"]] == ["Story g1", "Story g2"]
    via_s = ben.json("/reader/api/0/stream/contents", {"s": f"feed/{seeded.post.id}"})
    assert [item["title"] for item in via_s["items"]] == ["Story p2", "Story p1"]


def test_each_reader_has_their_own_state(server: WebServer, seeded: Seeded, ben: GReader) -> None:
    ada = GReader(server.base_url, "/api/greader.php").login("ada", PASSWORD)
    ben.post("/reader/api/0/mark-all-as-read", {"s": READING_LIST})
    ben.edit_tag([str(seeded.ids["g1"])], add=STARRED)
    assert ben.unread() == {READING_LIST: 0}
    assert ada.unread()[READING_LIST] == 7 and ada.all_ids(STARRED) == []
    ada.close()


def test_a_continuation_from_elsewhere_is_400(ben: GReader) -> None:
    response = ben.get("/reader/api/0/stream/items/ids", {"s": READING_LIST, "c": "not-a-cursor"})
    assert response.status_code == 400


def test_marking_starred_all_read_is_refused_and_read_is_a_no_op(ben: GReader) -> None:
    assert ben.post("/reader/api/0/mark-all-as-read", {"s": STARRED}).status_code == 400
    assert ben.post("/reader/api/0/mark-all-as-read", {"s": READ}).text == "OK"
    assert ben.unread()[READING_LIST] == 7


def test_unread_counts_carry_each_feeds_newest_item_time(store: Store, seeded: Seeded, ben: GReader) -> None:
    """Apps skip feeds whose newest item they already have: each count row carries it, kept up
    to date as articles arrive."""
    def newest() -> dict[str, int]:
        rows = ben.json("/reader/api/0/unread-count")["unreadcounts"]
        return {row["id"]: int(row["newestItemTimestampUsec"]) for row in rows}

    usec = lambda minutes: int((T0 + timedelta(minutes=minutes)).timestamp()) * 1_000_000  # noqa: E731
    gazette, post, label = f"feed/{seeded.gazette.id}", f"feed/{seeded.post.id}", "user/-/label/Local/City"
    assert newest() == {gazette: usec(5), post: usec(11), label: usec(5), READING_LIST: usec(11)}
    store.save_refresh(seeded.gazette.id, refreshed(SEEN_2 + timedelta(hours=1)), [entry("g6", 30)])
    assert newest() == {gazette: usec(30), post: usec(11), label: usec(30), READING_LIST: usec(30)}
