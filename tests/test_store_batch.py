"""Several refreshes in one commit: each is all-or-nothing on its own (a savepoint each)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import event

from newswire.errors import NotFound, StorageError
from newswire.models import Entry, SourceUpdate, StoreResult
from test_store import T0, ok, sample_entries


@contextmanager
def statements_run(store) -> Iterator[list[str]]:
    """Every SQL statement the store sends meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store._engine, "before_cursor_execute", record)


def unchanged(at: datetime, **changes) -> SourceUpdate:
    return SourceUpdate(fetched_at=at, status="not-modified", next_due_at=at + timedelta(minutes=30), **changes)


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


def test_outcomes_without_entries_cost_the_same_statements_for_two_feeds_or_fifty(store):
    """An unchanged pass writes each batch's outcomes in one statement, not a statement and a
    savepoint a feed: counted, not timed."""
    sources = [store.add_source(f"http://127.0.0.1/{i}") for i in range(50)]
    counts = []
    for n in (2, 50):
        with statements_run(store) as seen:
            results = store.save_refreshes([(s.id, unchanged(T0), ()) for s in sources[:n]])
        assert results == [StoreResult()] * n
        counts.append(len(seen))
        assert sum(statement.startswith("UPDATE sources") for statement in seen) == 1
    assert counts[0] == counts[1] <= 4  # (BEGIN,) SAVEPOINT, UPDATE, RELEASE
    assert {s.last_status for s in store.list_sources()} == {"not-modified"}


def test_outcomes_without_entries_are_written_in_order_and_a_missing_source_fails_alone(store):
    a, b, c = (store.add_source(f"http://127.0.0.1/{name}") for name in "abc")
    later = T0 + timedelta(hours=1)
    results = store.save_refreshes([
        (a.id, unchanged(T0, etag='"a"'), ()),
        (9999, unchanged(T0), ()),  # removed while it was fetched
        (b.id, ok(T0, etag='"b"', name="Bee"), sample_entries(2, seed=1)),
        (b.id, unchanged(later), ()),  # after the write above: keeps its etag and name
        (c.id, SourceUpdate(fetched_at=later, status="gone", next_due_at=None, consecutive_failures=1,
                            error="410", enabled=False), ()),
        (a.id, unchanged(later), ()),
    ])
    assert isinstance(results[1], NotFound)
    assert results[2] == StoreResult(new=2) and [results[i] for i in (0, 3, 4, 5)] == [StoreResult()] * 4
    a, b, c = (store.get_source(s.id) for s in (a, b, c))
    assert (a.etag, a.last_fetched_at, a.last_status) == ('"a"', later, "not-modified")
    assert (b.etag, b.name, b.last_fetched_at, b.last_status) == ('"b"', "Bee", later, "not-modified")
    assert (c.enabled, c.last_status, c.last_error, c.consecutive_failures, c.next_due_at) == (False, "gone", "410", 1, None)
    assert store.article_count(b.id) == 2
