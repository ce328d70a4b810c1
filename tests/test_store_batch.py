"""Several refreshes in one commit: each is all-or-nothing on its own (a savepoint each)."""

from __future__ import annotations

from datetime import datetime

from newswire.errors import NotFound, StorageError
from newswire.models import Entry, StoreResult
from test_store import ok, sample_entries


def test_one_failing_refresh_rolls_back_alone(store):
    a, b, c = (store.add_source(f"http://127.0.0.1/{name}") for name in "abc")
    shared_author = "Zelda Quartermain"
    bad = Entry(guid="bad", url=None, title="naive date", authors=(shared_author,),
                published=datetime(2025, 1, 1))  # no zone: the store refuses it
    good_b = sample_entries(2, seed=1)
    results = store.save_refreshes([
        (a.id, ok(etag='"a"'), sample_entries(3, seed=0)),
        (b.id, ok(etag='"b"'), [*good_b, bad]),
        (9999, ok(), sample_entries(1, seed=3)),
        (c.id, ok(etag='"c"'), sample_entries(2, seed=2)),
    ])
    assert results[0] == StoreResult(new=3) and results[3] == StoreResult(new=2)
    assert isinstance(results[1], StorageError) and isinstance(results[2], NotFound)
    assert [store.article_count(s.id) for s in (a, b, c)] == [3, 0, 2]
    assert store.get_source(b.id).etag is None and store.get_source(c.id).etag == '"c"'
    # The author created inside the rolled-back savepoint was not cached as existing.
    fixed = Entry(guid="fixed", url=None, title="fixed", authors=(shared_author,))
    assert store.save_refreshes([(b.id, ok(), [fixed])]) == [StoreResult(new=1)]
    assert store.get_article(store.search("fixed")[0].article_id).authors == (shared_author,)
