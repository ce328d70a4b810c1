"""Reading: newest-first listings with keyset cursors, filters, live arrivals; both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newswire.models import Entry
from test_store import T0, ok


def entry(guid: str, minutes: int, authors=("Ada Moreau",), title=None, text="harbour budget vote") -> Entry:
    return Entry(guid=guid, url=f"http://example.test/{guid}", title=title or f"Story {guid}", authors=authors,
                 published=T0 + timedelta(minutes=minutes), content_html=f"<p>{text}</p>", text=text,
                 snippet=text)


def test_pages_are_newest_first_and_never_skip_or_repeat_while_news_arrives(store):
    source = store.add_source("http://example.test/a")
    store.save_refresh(source.id, ok(), [entry(f"g{i}", i) for i in range(25)])
    seen, cursor = [], None
    first = store.list_articles(limit=10)
    seen += [a.guid for a in first.items]
    # News arrives between pages, newer than everything and with a time equal to a seen item.
    store.save_refresh(source.id, ok(), [entry("late-new", 100), entry("same-time", 20)])
    cursor = first.next
    while cursor:
        page = store.list_articles(limit=10, before=cursor)
        seen += [a.guid for a in page.items]
        cursor = page.next
    assert seen == [f"g{i}" for i in range(24, -1, -1)]
    assert store.list_articles(limit=1).items[0].guid == "late-new"


def test_filters_by_source_author_and_query(store):
    a, b = store.add_source("http://example.test/a"), store.add_source("http://example.test/b")
    store.save_refresh(a.id, ok(), [entry("a1", 1, ("Ada Moreau", "Liam Okafor")), entry("a2", 2, ("Omar Iqbal",))])
    store.save_refresh(b.id, ok(), [entry("b1", 3, ("ada  MOREAU",), text="ferry schedule delayed")])
    guids = lambda page: [x.guid for x in page.items]  # noqa: E731
    assert guids(store.list_articles(source_id=a.id)) == ["a2", "a1"]
    assert guids(store.list_articles(author="Ada Moreau")) == ["b1", "a1"]
    assert guids(store.list_articles(query="ferry")) == ["b1"]
    assert guids(store.list_articles(query='"budget vote"', source_id=a.id)) == ["a2", "a1"]
    assert guids(store.list_articles(query="!!!")) == []
    assert store.author_name("ADA moreau") == "Ada Moreau"
    assert store.author_name("Nobody") is None
    listed = store.list_articles(source_id=a.id).items[1]
    assert (listed.authors, listed.source_name, listed.content_html) == (("Ada Moreau", "Liam Okafor"), "", "")


def test_arrivals_after_an_id_in_arrival_order(store):
    source = store.add_source("http://example.test/a")
    assert store.last_article_id() == 0
    store.save_refresh(source.id, ok(), [entry("old", 1)])
    mark = store.last_article_id()
    store.save_refresh(source.id, ok(), [entry("n1", -50), entry("n2", 60)])
    assert [a.guid for a in store.arrived_after(mark)] == ["n1", "n2"]
    assert store.arrived_after(store.last_article_id()) == []


def test_arrivals_before_an_id_latest_first(store):
    source = store.add_source("http://example.test/a")
    assert store.arrived_before() == []
    store.save_refresh(source.id, ok(), [entry("a", 1), entry("b", -50), entry("c", 60)])
    arrived = [a.id for a in store.arrived_after(0)]
    assert [a.id for a in store.arrived_before()] == arrived[::-1]
    assert [a.id for a in store.arrived_before(arrived[2], limit=1)] == [arrived[1]]
    assert store.arrived_before(arrived[0]) == []


def test_search_newest_first(store):
    source = store.add_source("http://example.test/a")
    store.save_refresh(source.id, ok(), [entry("old", 1), entry("new", 9)])
    ranked = [h.article_id for h in store.search("harbour")]
    newest = [h.article_id for h in store.search("harbour", order="newest")]
    assert sorted(ranked) == sorted(newest)
    assert [store.get_article(i).guid for i in newest] == ["new", "old"]
    assert "<mark>" in store.search("harbour", order="newest")[0].snippet


@pytest.mark.parametrize("cursor", ["", "abc", "1.x", "x.1", "..", "1"])
def test_bad_cursor_is_a_value_error(store, cursor):
    if cursor == "":
        assert store.list_articles(before=cursor).items == ()
        return
    with pytest.raises(ValueError):
        store.list_articles(before=cursor)


def test_bulk_read_keeps_order_and_skips_missing(store):
    source = store.add_source("http://example.test/a")
    store.save_refresh(source.id, ok(), [entry("x", 1), entry("y", 2)])
    x, y = (store.list_articles(source_id=source.id).items[i].id for i in (1, 0))
    got = store.get_articles([y, 999999, x])
    assert [a.guid for a in got] == ["y", "x"]
    assert got == [store.get_article(y), store.get_article(x)] and got[0].content_html == "<p>harbour budget vote</p>"


def test_search_newest_pages_with_a_cursor(store):
    source = store.add_source("http://example.test/a")
    store.save_refresh(source.id, ok(), [entry(f"s{i}", i) for i in range(25)])
    seen, cursor = [], None
    while True:
        hits = store.search("harbour", limit=10, order="newest", before=cursor)
        seen += [store.get_article(h.article_id).guid for h in hits]
        if len(hits) < 10:
            break
        cursor = store.cursor_after(hits[-1].published_at, hits[-1].article_id)
    assert seen == [f"s{i}" for i in range(24, -1, -1)]
    with pytest.raises(ValueError):
        store.search("harbour", order="newest", before="nonsense")
