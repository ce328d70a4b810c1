"""bench/story_stream.py's arrival orders: what ``story_eval.py --orders`` judges a clustering
change over, so they must be orders the product can really see."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import story_stream  # noqa: E402


def _items() -> list[story_stream.Item]:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    items = [story_stream.Item(f"d{i}", f"feed-{i % 4}", f"t{i}", "", f"http://x.test/{i}",
                               start + timedelta(minutes=7 * i), "g") for i in range(60)]
    return sorted(items, key=lambda i: (i.published, i.doc_id))


def test_an_arrival_order_keeps_rounds_and_each_feeds_order():
    items = _items()
    first = items[0].published
    for seed in range(5):
        ordered = story_stream.arrival_order(items, seed)
        assert sorted(i.doc_id for i in ordered) == sorted(i.doc_id for i in items)
        rounds = [(i.published - first) // story_stream.ROUND for i in ordered]
        assert rounds == sorted(rounds)  # no item is seen before an earlier round's
        for feed in {i.feed for i in items}:
            times = [i.published for i in ordered if i.feed == feed]
            assert times == sorted(times)


def test_arrival_orders_differ_from_publication_order_within_a_round():
    items = _items()
    orders = {tuple(i.doc_id for i in story_stream.arrival_order(items, seed)) for seed in range(5)}
    assert len(orders) > 1
    assert any(list(order) != [i.doc_id for i in items] for order in orders)
