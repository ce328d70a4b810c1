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
