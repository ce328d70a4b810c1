"""The enrichment steps' own reads, planned: bounded by the window, never by the archive."""

from __future__ import annotations

from datetime import timedelta

from plans import PER_SOURCE, SOURCES, T0, captured, load_articles, plan_problems


def test_the_catch_up_check_reads_the_window_not_every_article_without_a_story(store, database_url):
    """``has_articles_without_story`` (asked by a pass that stored nothing) walks the window's
    range of the publication index. Here the 19,000 older articles have no story, as in a
    database filled with ``--no-enrich``: along the story index, the check would go through all
    of them, every pass."""
    load_articles(database_url)
    total = SOURCES * PER_SOURCE
    window_start = T0 + timedelta(minutes=total - 500)  # the newest 500: each in a story
    assert not store.has_articles_without_story(window_start)
    assert store.has_articles_without_story(window_start - timedelta(minutes=1000))
    assert plan_problems(database_url, lambda: store.has_articles_without_story(window_start)) == {}
    with captured() as statements:
        store.has_articles_without_story(window_start)
    if store.dialect == "sqlite":
        from newswire.store.engine import create_engine

        engine = create_engine(database_url)
        try:
            with engine.connect() as conn:
                (statement, parameters), = statements
                details = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        finally:
            engine.dispose()
        assert any("ix_articles_published_at_id" in d for d in details), details


def test_a_story_batch_reads_its_stories_stats_from_an_index_and_finds_merged_rows_by_one(store, database_url):
    """Every batch the story step writes recomputes its stories' stats (``refresh_many``): from
    the story index alone, not from the article rows, whose text makes each a dozen pages. A
    merge repoints the stories merged into the old one: by an index, not a scan of all."""
    load_articles(database_url)
    with captured() as statements:
        store.assign_stories([(5, 3)], {3: "Story 3"}, merges=[(2, 1)])
    # counting a story's distinct sources sorts them: bounded by the story, not the archive
    assert plan_problems(database_url, lambda: store.assign_stories([(5, 3)], merges=[(4, 1)]),
                         sorts_of_a_group=True) == {}
    stats = [(s, p) for s, p in statements if "count(DISTINCT" in s or "count(distinct" in s]
    assert len(stats) == 1
    from newswire.store.engine import create_engine

    repoint = "UPDATE stories SET merged_into=5 WHERE stories.merged_into = 1"
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if store.dialect == "sqlite":
                details = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stats[0][0], stats[0][1])]
                assert any("COVERING INDEX ix_articles_story_id_published_at" in d for d in details), details
                details = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + repoint)]
                assert any("INDEX ix_stories_merged_into" in d for d in details), details
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + repoint))
                assert "ix_stories_merged_into" in plan and "Seq Scan" not in plan, plan
    finally:
        engine.dispose()
