"""Newest-first matches on SQLite: the windowed search must equal a full sort, whatever order
articles arrived in (backfilled old news, future-dated items, ties)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from newswire.models import Entry, SourceUpdate
from newswire.store import Store, recent

T0 = datetime(2025, 9, 17, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """600 articles arriving in shuffled publication order, some sharing a timestamp."""
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('recent') / 'r.db'}")
    sources = [store.add_source(f"http://example.test/{i}") for i in range(3)]
    rng = random.Random(3)
    minutes = list(range(500)) + [250] * 50 + [-10] * 25 + [900] * 25  # ties, old and future items
    rng.shuffle(minutes)
    update = SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0)
    for start in range(0, len(minutes), 50):
        entries = []
        for i in range(start, start + 50):
            words = ["common"] + (["tenth"] if i % 10 == 0 else []) + (["rare"] if i % 97 == 0 else [])
            words += ["harbour authority"] if i % 7 == 0 else ["authority of the harbour"]
            text = " ".join(words)
            entries.append(Entry(guid=f"g{i}", url=None, title=f"t{i}", published=T0 + timedelta(minutes=minutes[i]),
                                 content_html=text, text=text, snippet=text))
        store.save_refresh(sources[start // 50 % 3].id, update, entries)
    yield store
    store.close()


def full_sort(store, query, **kwargs):
    """The reference: every match, sorted."""
    ids, cursor = [], None
    while True:
        page = store.list_articles(query=query, limit=200, before=cursor, **kwargs)
        ids += [a.id for a in page.items]
        if not page.next:
            return ids
        cursor = page.next


@pytest.mark.parametrize("small,window", [(5000, 2000), (3, 2), (10, 5)])
@pytest.mark.parametrize("query", ["common", "tenth", "rare", '"harbour authority"', "harb*", "tenth common"])
def test_windowed_pages_equal_a_full_sort(corpus, monkeypatch, query, small, window):
    expected = full_sort(corpus, query)  # with the defaults the small path sorts exactly
    monkeypatch.setattr(recent, "SMALL", small)
    monkeypatch.setattr(recent, "FIRST_WINDOW", window)
    for limit in (7, 50):
        got, cursor = [], None
        while True:
            page = corpus.list_articles(query=query, limit=limit, before=cursor)
            got += [a.id for a in page.items]
            if not page.next:
                break
            cursor = page.next
        assert got == expected
    assert [h.article_id for h in corpus.search(query, limit=20, order="newest")] == expected[:20]


def test_filters_apply_inside_the_window(corpus, monkeypatch):
    source_id = corpus.list_sources()[1].id
    expected = full_sort(corpus, "tenth", source_id=source_id)
    monkeypatch.setattr(recent, "SMALL", 3)
    monkeypatch.setattr(recent, "FIRST_WINDOW", 2)
    assert [a.id for a in corpus.list_articles(query="tenth", source_id=source_id, limit=200).items] == expected
    assert expected and all(corpus.get_article(i).source_id == source_id for i in expected)


def test_ranked_search_scores_the_most_recent_pool(corpus, monkeypatch):
    monkeypatch.setattr(recent, "RANK_POOL", 30)
    hits = corpus.search("tenth", limit=5)
    assert len(hits) == 5 and hits == sorted(hits, key=lambda h: -h.rank)
    newest_stored = sorted((h.article_id for h in corpus.search("tenth", limit=100, order="newest")), reverse=True)
    assert {h.article_id for h in hits} <= set(newest_stored[:30])
