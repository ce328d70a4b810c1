"""Rows of the ``stories`` table and the articles' ``story_id``: story clustering's writes and
the story pages' reads.

A story's stats are always recomputed from its articles (count, distinct sources, earliest and
latest publication), so repeated refreshes never drift. Listings order by size (sources, then
articles) and recency, paged by keyset on that whole order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import Story

from .id_lists import in_ids
from .paging import by_id_pages
from .reading import decode_moment, encode_moment
from .tables import articles, sources, stories

_c = stories.c


@dataclass(frozen=True, slots=True)
class StoryRow:
    """An article as story clustering needs it on a rebuild."""

    id: int
    source_id: int
    title: str
    text: str
    published_at: datetime
    story_id: int | None
    duplicate_of: int | None
    merge_stories: bool


def to_story(row: Any) -> Story:
    return Story(id=row.id, title=row.title, first_seen_at=row.first_seen_at, last_updated_at=row.last_updated_at,
                 article_count=row.article_count, source_count=row.source_count)


def create_many(conn: Connection, new: Sequence[tuple[str, datetime]]) -> list[int]:
    """Insert one story per (title, first seen) in one statement; their ids in the same order."""
    if not new:
        return []
    rows = conn.execute(sa.insert(stories).returning(_c.id, sort_by_parameter_order=True),
                        [{"title": title, "first_seen_at": at, "last_updated_at": at} for title, at in new])
    return list(rows.scalars())


def assign(conn: Connection, pairs: Sequence[tuple[int, int]]) -> None:
    """Set ``story_id`` for each (article id, story id)."""
    if pairs:
        conn.execute(sa.update(articles).where(articles.c.id == sa.bindparam("aid"))
                     .values(story_id=sa.bindparam("sid")),
                     [{"aid": article_id, "sid": story_id} for article_id, story_id in pairs])


def refresh(conn: Connection, story_id: int, title: str | None) -> None:
    """Recompute a story's stats from its articles; set its title when given."""
    refresh_many(conn, [story_id], {story_id: title} if title is not None else {})


def refresh_many(conn: Connection, story_ids: Sequence[int], titles: Mapping[int, str]) -> None:
    """Recompute the stats of each story of ``story_ids`` from its articles, and set the titles
    given: one grouped query and one batch of updates, however many stories a batch touched."""
    if not story_ids:
        return
    a = articles.c
    found = {row.story_id: row for row in conn.execute(
        sa.select(a.story_id, sa.func.count().label("n"), sa.func.count(sa.distinct(a.source_id)).label("sources"),
                  sa.func.min(a.published_at).label("first"), sa.func.max(a.published_at).label("last"))
        .where(a.story_id.in_(list(story_ids))).group_by(a.story_id))}
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for story_id in story_ids:
        row = found.get(story_id)
        values: dict[str, Any] = {"article_count": row.n if row else 0, "source_count": row.sources if row else 0}
        if row is not None:
            values.update(first_seen_at=row.first, last_updated_at=row.last)
        if story_id in titles:
            values["title"] = titles[story_id]
        by_shape.setdefault(tuple(values), []).append({"sid": story_id, **values})
    for shape, rows in by_shape.items():
        conn.execute(sa.update(stories).where(_c.id == sa.bindparam("sid"))
                     .values({k: sa.bindparam(k) for k in shape}), rows)


def fold_many(conn: Connection, merges: Sequence[tuple[int, int]]) -> set[int]:
    """Fold each story ``old`` into ``new``, in order (see ``Store.assign_stories``): its
    articles move over, its row is left empty and points at the story it went into at last, as
    do the stories merged into it before, so a redirect is one hop. Three statements, however
    many merges (each run for every merge); the stats of the stories folded into are the
    caller's to recompute (``refresh_many``), once with the batch's others. Returns those
    stories."""
    into: dict[int, int] = {}
    for old, new in merges:
        if old != new:
            into[old] = new

    def last(story_id: int) -> int:  # where a chain of this batch's merges ends
        seen = set()
        while story_id in into and story_id not in seen:
            seen.add(story_id)
            story_id = into[story_id]
        return story_id

    # No story folded into is itself folded here, so the order of the rows does not matter.
    params = [{"old": old, "new": new} for old, new in ((old, last(old)) for old in into) if old != new]
    if not params:
        return set()
    conn.execute(sa.update(articles).where(articles.c.story_id == sa.bindparam("old"))
                 .values(story_id=sa.bindparam("new")), params)
    conn.execute(sa.update(stories).where(_c.merged_into == sa.bindparam("old"))
                 .values(merged_into=sa.bindparam("new")), params)
    conn.execute(sa.update(stories).where(_c.id == sa.bindparam("old"))
                 .values(merged_into=sa.bindparam("new"), article_count=0, source_count=0), params)
    return {param["new"] for param in params}


def merged_into(conn: Connection, story_id: int) -> int | None:
    """Where a merged story's links go now; None when it was not merged."""
    seen = set()
    target = None
    current = story_id
    while current not in seen and len(seen) < 64:  # one hop normally; bounded whatever the data
        seen.add(current)
        row = conn.execute(sa.select(_c.merged_into).where(_c.id == current)).first()
        if row is None or row.merged_into is None:
            break
        target = current = row.merged_into
    return target


def encode_cursor(story: Story) -> str:
    return f"{story.source_count}.{story.article_count}.{encode_moment(story.last_updated_at)}.{story.id}"


def decode_cursor(cursor: str) -> tuple[int, int, datetime, int]:
    """Raises ValueError for anything that is not a cursor ``encode_cursor`` made."""
    parts = cursor.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts[:2] + parts[3:]):
        raise ValueError(f"store: invalid story cursor {cursor[:80]!r}")
    return int(parts[0]), int(parts[1]), decode_moment(parts[2]), int(parts[3])


def list_page(conn: Connection, limit: int, before: str | None, active_since: datetime | None,
              min_sources: int) -> tuple[list[Story], str | None]:
    limit = max(1, min(limit, 200))
    order = (_c.source_count, _c.article_count, _c.last_updated_at, _c.id)
    query = sa.select(stories).where(_c.article_count > 0, _c.source_count >= min_sources)
    if active_since is not None:
        query = query.where(_c.last_updated_at >= active_since)
    if before:
        query = query.where(sa.tuple_(*order) < sa.tuple_(*[sa.literal(v) for v in decode_cursor(before)]))
    rows = conn.execute(query.order_by(*[column.desc() for column in order]).limit(limit + 1)).all()
    items = [to_story(row) for row in rows[:limit]]
    return items, encode_cursor(items[-1]) if len(rows) > limit else None


def get(conn: Connection, story_id: int) -> Story | None:
    row = conn.execute(sa.select(stories).where(_c.id == story_id)).first()
    return to_story(row) if row else None


_STORY_COUNTS = sa.select(_c.id, _c.article_count, _c.source_count).where(
    in_ids(_c.id))  # built once: every listing page asks


def story_counts(conn: Connection, story_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(article_count, source_count) of each story id that exists."""
    if not story_ids:
        return {}
    rows = conn.execute(_STORY_COUNTS, {"ids": sorted(set(story_ids))})
    return {row.id: (row.article_count, row.source_count) for row in rows}


def story_sources(conn: Connection, story_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """The sources covering each story, (id, name), by name."""
    if not story_ids:
        return {}
    a = articles.c
    rows = conn.execute(sa.select(a.story_id, sources.c.id, sources.c.name).distinct()
                        .join(sources, sources.c.id == a.source_id)
                        .where(a.story_id.in_(set(story_ids)))
                        .order_by(a.story_id, sources.c.name, sources.c.id)).all()
    found: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        found.setdefault(row.story_id, []).append((row.id, row.name))
    return found


def recent_page(conn: Connection, since: datetime, after_id: int, limit: int) -> list[StoryRow]:
    """Articles published since ``since`` with ids above ``after_id``, in storage (id) order,
    ``limit`` at most: what rebuilding the clusterer reads (``iter_recent``)."""
    return _story_rows(conn, _story_rows_query().where(articles.c.published_at >= since, articles.c.id > after_id)
                       .order_by(articles.c.id).limit(limit))


def has_articles_without_story(conn: Connection, since: datetime) -> bool:
    """Whether an article published since ``since`` has no story: looked for along the window's
    range of the publication time index. The test is written so that no planner can take the
    story index instead (``story_id IS NULL`` can match every article older than the window
    that never got a story, a million rows for a database filled with ``--no-enrich``)."""
    a = articles.c
    return conn.execute(sa.select(a.id).where(a.published_at >= since, sa.func.coalesce(a.story_id, 0) == 0)
                        .limit(1)).first() is not None


PAGE = 1000  # articles read at a time when the clusterer is rebuilt


def iter_recent(read, since: datetime, page: int | None = None, upto: int | None = None) -> Iterator[StoryRow]:
    """All of ``recent_page`` in pages (``paging.by_id_pages``): a window of articles with their
    texts (43,000 of 5 KB in 72 hours at 100,000 a week) is never in memory at once, only the
    page being clustered. ``upto``: the last id given."""
    return by_id_pages(read, lambda conn, after, limit: recent_page(conn, since, after, limit), page or PAGE, upto)


def rows_of(conn: Connection, article_ids: Sequence[int]) -> list[StoryRow]:
    """The articles of ``article_ids`` that exist, as story clustering reads them after a
    write: only the columns it needs, with their source's switch (not whole articles with
    their authors, categories and HTML)."""
    found: list[StoryRow] = []
    ids = list(article_ids)
    for i in range(0, len(ids), CHUNK):
        found += _story_rows(conn, _story_rows_query().where(articles.c.id.in_(ids[i:i + CHUNK])))
    return found


CHUNK = 500  # ids per IN (…) list


def _story_rows_query() -> sa.Select:
    a = articles.c
    return (sa.select(a.id, a.source_id, a.title, a.text, a.summary, a.published_at, a.story_id, a.duplicate_of,
                      sources.c.merge_stories)
            .join(sources, sources.c.id == a.source_id))


def _story_rows(conn: Connection, query: sa.Select) -> list[StoryRow]:
    return [StoryRow(r.id, r.source_id, r.title, r.text or r.summary, r.published_at, r.story_id, r.duplicate_of,
                     r.merge_stories) for r in conn.execute(query)]
