"""What a reader muted and follows, as conditions on ``articles``: the reader's wire leaves out
their muted sources and authors (``reading.Filters.reader_id``), and their "Following" page
keeps what they follow (``reading.Filters.followed_by``), without changing the shared sources."""

from __future__ import annotations

import sqlalchemy as sa

from .tables import article_authors, articles, reader_authors, reader_sources, reader_stories


def muted_out(user_id: int | sa.BindParameter[int]) -> list[sa.ColumnElement[bool]]:
    """Conditions keeping the articles not from a source or by an author ``user_id`` muted.
    Both are index lookups per article row (reader_sources by its key, article_authors by
    article), so the wire keeps walking its (published_at, id) index to the page's end."""
    muted_sources = sa.select(reader_sources.c.source_id).where(reader_sources.c.user_id == user_id,
                                                                reader_sources.c.muted)
    by_muted_author = (sa.select(article_authors.c.article_id)
                       .join(reader_authors, reader_authors.c.author_id == article_authors.c.author_id)
                       .where(article_authors.c.article_id == articles.c.id, reader_authors.c.user_id == user_id,
                              reader_authors.c.muted))
    return [articles.c.source_id.not_in(muted_sources), ~sa.exists(by_muted_author)]


def followed_in(user_id: int | sa.BindParameter[int]) -> sa.ColumnElement[bool]:
    """A condition keeping the articles from a source, by an author or in a story ``user_id``
    follows."""
    sources = sa.select(reader_sources.c.source_id).where(reader_sources.c.user_id == user_id,
                                                          reader_sources.c.followed)
    stories = sa.select(reader_stories.c.story_id).where(reader_stories.c.user_id == user_id)
    by_author = (sa.select(article_authors.c.article_id)
                 .join(reader_authors, reader_authors.c.author_id == article_authors.c.author_id)
                 .where(article_authors.c.article_id == articles.c.id, reader_authors.c.user_id == user_id,
                        reader_authors.c.followed))
    return sa.or_(articles.c.source_id.in_(sources), articles.c.story_id.in_(stories), sa.exists(by_author))
