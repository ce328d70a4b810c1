"""The story step's writes: merges folded in one transaction with the batch's assignments, a
fixed number of statements however many merges, and stats read from an index, on SQLite and
PostgreSQL. Content is fictional."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from test_story_pages import NOW, entry, ok


def _articles(store, n: int) -> list[int]:
    sources = [store.add_source(f"http://127.0.0.1:9/w{i}/feed", name=f"The Write Post {i}") for i in range(3)]
    return [store.save_refresh(sources[i % 3].id, ok(), [entry(f"w{i}", f"Harbour item {i}", f"Item {i} text.",
                                                                NOW + timedelta(minutes=i))]).new_ids[0]
            for i in range(n)]


def test_a_chain_of_merges_in_one_batch_ends_in_one_story_that_every_old_one_points_at(store):
    ids = _articles(store, 6)
    a, b, c, d = store.create_stories([(f"story {k}", NOW) for k in "abcd"])
    store.assign_stories([(ids[0], a), (ids[1], b), (ids[2], c), (ids[3], d)])
    store.assign_stories([], merges=[(d, a)])  # an earlier merge: d's links go to a
    # a into b, then b into c, with one new article for c and one for b (now c's)
    store.assign_stories([(ids[4], c), (ids[5], c)], {c: "story c"}, merges=[(a, b), (b, c)])
    assert {x.story_id for x in store.get_articles(ids)} == {c}
    assert [store.story_redirect(s) for s in (a, b, c, d)] == [c, c, None, c]
    story = store.get_story(c)
    assert (story.article_count, story.source_count, story.title) == (6, 3, "story c")
    assert story.first_seen_at == NOW and story.last_updated_at == NOW + timedelta(minutes=5)
    assert [store.get_story(s).article_count for s in (a, b, d)] == [0, 0, 0]


def test_folding_many_stories_runs_the_same_statements_as_folding_one(store):
    """Each merge's three updates went one by one, each in its own round trip, and a batch of
    a first fetch folds hundreds: now each is one statement run for every merge."""
    ids = _articles(store, 12)
    stories = store.create_stories([(f"story {k}", NOW) for k in range(12)])
    store.assign_stories(list(zip(ids, stories)))

    def statements(merges) -> int:
        seen = []

        def record(conn, cursor, statement, *rest) -> None:
            seen.append(statement)

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
        try:
            store.assign_stories([], merges=merges)
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
        return len(seen)

    assert statements([(stories[1], stories[0])]) == statements([(s, stories[2]) for s in stories[3:]])
    assert {x.story_id for x in store.get_articles(ids)} == {stories[0], stories[2]}
