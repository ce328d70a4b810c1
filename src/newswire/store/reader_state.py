"""Each reader's read, saved, muted and followed state: the SQL behind ``Store``'s reader methods.

Read state is a watermark plus exceptions, so that "mark all as read" costs one row however
many articles it covers, and unread counts cost what is unread, not what is stored:

    an article is read for a reader  ⇔  its reader_articles row has ``read`` set: that value;
                                        else its id ≤ W(source) = max(readers.read_up_to_id,
                                                                      reader_sources.read_up_to_id)

So a new article (an id above every watermark, no row) is unread for everyone. Marking one
article writes its exception row; marking a whole source or the wire raises a watermark and
drops the rows it makes redundant. Unread counts seek ``articles (source_id, id)`` past each
source's watermark, then correct for the few exception rows: with a reader who keeps up, a
handful of index entries per source. (A reader who never marks anything read pays for every
article above the watermark: that is the cost of an honest count.) ``reader_counts`` keeps each
reader's counts between asks and adds only what arrived since, until a mark raises the reader's
``state_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .conflicts import insert_for
from .id_lists import in_ids
from .articles import author_key
from .reading import below, decode_cursor, encode_cursor, in_category, last_article_id
from .search import match_clause, parse_query
from .tables import (article_authors, articles, authors, reader_articles, reader_authors, reader_sources,
                     reader_stories, readers, sources)

VISIT_GAP = timedelta(minutes=30)  # a wire loaded after this long away starts a new visit
VISIT_NOTE_EVERY = timedelta(minutes=1)  # within a visit, a wire page writes at most this often
MAX_SYNC_LIMIT = 1000

A, R, RS = articles.c, reader_articles.c, reader_sources.c
# The id, hidden from SQLite's planner by a unary plus: in min(id) or in a range, SQLite walks
# every id above a watermark (a million rows, seconds) rather than seek ix_articles_first_seen_at
# to the few articles first seen after a time.
_ID_NOT_INDEXED = sa.literal_column("+articles.id")


@dataclass(frozen=True, slots=True)
class ReaderPrefs:
    """What a reader mutes and follows: source ids, author display names, story ids."""

    muted_sources: frozenset[int] = frozenset()
    followed_sources: frozenset[int] = frozenset()
    muted_authors: tuple[str, ...] = ()
    followed_authors: tuple[str, ...] = ()
    followed_stories: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Scope:
    """Which articles a "mark all as read" covers (all fields None: the whole wire)."""

    source_id: int | None = None
    category: str | None = None
    author: str | None = None
    story_id: int | None = None
    query: str | None = None

    @property
    def by_source(self) -> bool:
        """Whether a watermark can cover it: the wire, a source or a category."""
        return self.author is None and self.story_id is None and self.query is None


def _insert(conn: Connection) -> Any:
    return insert_for(conn)


def _upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str],
            update: Iterable[str]) -> None:
    if not rows:
        return
    stmt = _insert(conn)(table)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_={k: stmt.excluded[k] for k in update}), rows)


# -- watermarks

_BASE_MARK = sa.select(readers.c.read_up_to_id).where(readers.c.user_id == sa.bindparam("user"))  # built once


def base_mark(conn: Connection, user_id: int) -> int:
    """The reader's whole-wire watermark (0: nothing read by watermark)."""
    return int(conn.execute(_BASE_MARK, {"user": user_id}).scalar() or 0)


Value = int | sa.BindParameter[int]  # a user id or mark given now, or a parameter of a statement built once


def _source_mark(user_id: Value, base: Value) -> sa.ColumnElement[int]:
    """W(source) for a query joined to ``reader_sources`` by ``_source_join``."""
    mark = sa.func.coalesce(RS.read_up_to_id, 0)
    return sa.case((mark > base, mark), else_=sa.literal(base) if isinstance(base, int) else base)


def _source_join(user_id: Value, on: sa.ColumnElement[int]) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    return reader_sources, sa.and_(RS.user_id == user_id, RS.source_id == on)


def _article_join(user_id: Value) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    return reader_articles, sa.and_(R.user_id == user_id, R.article_id == A.id)


def _is_unread(user_id: Value, base: Value) -> sa.ColumnElement[bool]:
    """True for an unread article, in a query over articles left-joined to both state tables
    (else false or NULL: never negate it, NOT NULL is NULL; use ``_is_read``)."""
    return sa.or_(R.read == sa.false(), sa.and_(R.read.is_(None), A.id > _source_mark(user_id, base)))


def _is_read(user_id: Value, base: Value) -> sa.ColumnElement[bool]:
    """True for a read article (else false or NULL), as ``_is_unread``."""
    return sa.or_(R.read == sa.true(), sa.and_(R.read.is_(None), A.id <= _source_mark(user_id, base)))


def _with_state(query: sa.Select[Any], user_id: Value) -> sa.Select[Any]:
    return query.outerjoin(*_article_join(user_id)).outerjoin(*_source_join(user_id, A.source_id))


# -- reading state

def article_states(conn: Connection, user_id: int, article_ids: Sequence[int]) -> dict[int, tuple[bool, bool]]:
    """id → (read, saved) for the ids that exist."""
    if not article_ids:
        return {}
    values = {"user": user_id, "base": base_mark(conn, user_id), "ids": list(article_ids)}
    return {row.id: (bool(row.read), bool(row.saved)) for row in conn.execute(_STATES, values)}


def _states_query() -> sa.Select[Any]:
    user, base = sa.bindparam("user"), sa.bindparam("base")
    query = sa.select(A.id, _is_read(user, base).label("read"), R.saved_at.is_not(None).label("saved"))
    return _with_state(query.select_from(articles), user).where(in_ids(A.id))


_STATES = _states_query()  # built once, as every page with marks asks: see reading._Shape


def _existing(article_ids: Sequence[int]) -> sa.Select[Any]:
    return sa.select(A.id).where(A.id.in_(list(article_ids)))


def mark_read(conn: Connection, user_id: int, article_ids: Sequence[int], read: bool) -> None:
    """Record ``read`` for each existing article of ``article_ids``; unknown ids are ignored."""
    if not article_ids:
        return
    ids = list(conn.execute(_existing(article_ids)).scalars())
    _upsert(conn, reader_articles, [{"user_id": user_id, "article_id": i, "read": read} for i in ids],
            ["user_id", "article_id"], ["read"])
    if ids:
        _changed(conn, user_id)


def set_saved(conn: Connection, user_id: int, article_ids: Sequence[int], saved_at: datetime | None) -> None:
    """Save (``saved_at`` set) or unsave each existing article of ``article_ids``."""
    if not article_ids:
        return
    ids = list(conn.execute(_existing(article_ids)).scalars())
    if saved_at is not None:
        stmt = _insert(conn)(reader_articles)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["user_id", "article_id"],
            set_={"saved_at": sa.func.coalesce(reader_articles.c.saved_at, stmt.excluded.saved_at)}),
            [{"user_id": user_id, "article_id": i, "saved_at": saved_at} for i in ids])
    else:
        conn.execute(sa.update(reader_articles).where(R.user_id == user_id, R.article_id.in_(ids))
                     .values(saved_at=None))
        _drop_empty(conn, user_id, R.article_id.in_(ids))


def _drop_empty(conn: Connection, user_id: int, where: sa.ColumnElement[bool]) -> None:
    """Delete exception rows that no longer say anything."""
    conn.execute(sa.delete(reader_articles).where(R.user_id == user_id, R.read.is_(None), R.saved_at.is_(None),
                                                  where))


_VERSION = sa.select(readers.c.state_version).where(readers.c.user_id == sa.bindparam("user"))  # built once


def state_version(conn: Connection, user_id: int) -> int:
    """The reader's state version: raised by every change that can change what they have read."""
    return int(conn.execute(_VERSION, {"user": user_id}).scalar() or 0)


def _changed(conn: Connection, user_id: int) -> None:
    _ensure_reader(conn, user_id)
    conn.execute(sa.update(readers).where(readers.c.user_id == user_id)
                 .values(state_version=readers.c.state_version + 1))


def arrivals_by_source(conn: Connection, after_id: int, up_to_id: int) -> dict[int, int]:
    """source id → articles with ``after_id`` < id ≤ ``up_to_id``: what arrived since a count,
    unread for every reader whose state has not changed since (no watermark or mark reaches
    an id that did not exist)."""
    rows = conn.execute(sa.select(A.source_id, sa.func.count()).where(A.id > after_id, A.id <= up_to_id)
                        .group_by(A.source_id))
    return {source_id: n for source_id, n in rows}


def unread_counts(conn: Connection, user_id: int, up_to_id: int) -> dict[int, int]:
    """source id → unread articles with id ≤ ``up_to_id`` (copies included); sources with none
    are left out."""
    base = base_mark(conn, user_id)
    mark = _source_mark(user_id, base)
    above = (sa.select(sa.func.count()).select_from(articles)
             .where(A.source_id == sources.c.id, A.id > mark, A.id <= up_to_id).scalar_subquery())
    query = sa.select(sources.c.id, mark.label("mark"), above.label("above")).select_from(
        sources.outerjoin(*_source_join(user_id, sources.c.id)))
    counts, marks = {}, {}
    for row in conn.execute(query):
        counts[row.id], marks[row.id] = row.above, row.mark
    exceptions = (sa.select(A.source_id, A.id, R.read).select_from(reader_articles)
                  .join(articles, A.id == R.article_id)
                  .where(R.user_id == user_id, R.read.is_not(None), A.id <= up_to_id))
    for row in conn.execute(exceptions):
        below = row.id <= marks.get(row.source_id, base)
        if row.read and not below:
            counts[row.source_id] -= 1
        elif not row.read and below:
            counts[row.source_id] += 1
    return {source_id: n for source_id, n in counts.items() if n > 0}


def unread_ids(conn: Connection, user_id: int, limit: int) -> list[int]:
    """Unread article ids, newest arrival first, ``limit`` at most."""
    base = base_mark(conn, user_id)
    above = _with_state(sa.select(A.id).select_from(articles), user_id).where(
        A.id > base, _is_unread(user_id, base)).order_by(A.id.desc()).limit(limit)
    kept = (sa.select(R.article_id).where(R.user_id == user_id, R.read == sa.false(), R.article_id <= base)
            .order_by(R.article_id.desc()).limit(limit))
    ids = [*conn.execute(above).scalars(), *conn.execute(kept).scalars()]
    return sorted(ids, reverse=True)[:limit]


def saved_ids(conn: Connection, user_id: int, limit: int) -> list[int]:
    """Saved article ids, newest arrival first, ``limit`` at most."""
    query = (sa.select(R.article_id).where(R.user_id == user_id, R.saved_at.is_not(None))
             .order_by(R.article_id.desc()).limit(limit))
    return list(conn.execute(query).scalars())


# -- mark all as read

def _category_sources(conn: Connection, category: str) -> list[int]:
    """Sources in ``category`` or below it (categories are "/"-separated paths), as the wire's
    category listing chooses them."""
    return list(conn.execute(in_category(sa.literal(category), sa.literal(below(category)))).scalars())


def _scope_sources(conn: Connection, scope: Scope) -> list[int] | None:
    """The source ids ``scope`` is limited to, None for all."""
    chosen: list[int] | None = None
    if scope.category is not None:
        chosen = _category_sources(conn, scope.category)
    if scope.source_id is not None:
        chosen = [scope.source_id] if chosen is None or scope.source_id in chosen else []
    return chosen


def _scope_conditions(conn: Connection, scope: Scope, chosen: list[int] | None) -> list[sa.ColumnElement[bool]] | None:
    """WHERE conditions on articles for ``scope``; None when nothing can match."""
    where: list[sa.ColumnElement[bool]] = []
    if chosen is not None:
        where.append(A.source_id.in_(chosen))
    if scope.story_id is not None:
        where.append(A.story_id == scope.story_id)
    if scope.author is not None:
        where.append(A.id.in_(sa.select(article_authors.c.article_id)
                              .join(authors, authors.c.id == article_authors.c.author_id)
                              .where(authors.c.key == author_key(scope.author))))
    if scope.query is not None:
        terms = parse_query(scope.query)
        if not terms:
            return None
        where.append(match_clause(conn.dialect.name, terms))
    return where


def mark_all_read(conn: Connection, user_id: int, scope: Scope, up_to: datetime | None,
                  up_to_id: int | None) -> None:
    """Everything in ``scope`` first seen at or before ``up_to`` and with id ≤ ``up_to_id``
    becomes read. The wire, a source or a category raise watermarks (one row each); an author,
    a story or a search write a row per article they hold."""
    bound = last_article_id(conn) if up_to_id is None else min(up_to_id, last_article_id(conn))
    chosen = _scope_sources(conn, scope)
    where = _scope_conditions(conn, scope, chosen)
    if where is None or chosen == []:
        return
    base = base_mark(conn, user_id)
    if not scope.by_source:
        query = _with_state(sa.select(A.id).select_from(articles), user_id).where(
            A.id <= bound, _is_unread(user_id, base), *where)
        if up_to is not None:
            query = query.where(A.first_seen_at <= up_to)
        mark_read(conn, user_id, list(conn.execute(query).scalars()), True)
        return
    mark = bound
    if up_to is not None:  # ids grow with arrival, nearly always with first_seen_at too
        later = conn.execute(sa.select(sa.func.min(_ID_NOT_INDEXED)).where(
            _ID_NOT_INDEXED > base, _ID_NOT_INDEXED <= bound, A.first_seen_at > up_to, *where)).scalar()
        if later is not None:
            mark = later - 1
            stragglers = conn.execute(sa.select(A.id).where(
                A.id > mark, A.id <= bound, A.first_seen_at <= up_to, *where)).scalars()
            mark_read(conn, user_id, list(stragglers), True)
    _raise_marks(conn, user_id, chosen, mark)


def _raise_marks(conn: Connection, user_id: int, chosen: list[int] | None, mark: int) -> None:
    """Raise the watermark of the wire (``chosen`` None) or of each chosen source to ``mark``,
    and drop the exception rows at or below it that now say nothing."""
    _changed(conn, user_id)
    if chosen is None:
        conn.execute(sa.update(readers).where(readers.c.user_id == user_id, readers.c.read_up_to_id < mark)
                     .values(read_up_to_id=mark))
        covered = R.article_id <= mark
    else:
        conn.execute(_insert(conn)(reader_sources).on_conflict_do_nothing(),
                     [{"user_id": user_id, "source_id": s} for s in chosen])
        conn.execute(sa.update(reader_sources).where(RS.user_id == user_id, RS.source_id.in_(chosen),
                                                     RS.read_up_to_id < mark).values(read_up_to_id=mark))
        covered = R.article_id.in_(sa.select(A.id).where(A.source_id.in_(chosen), A.id <= mark))
    conn.execute(sa.update(reader_articles).where(R.user_id == user_id, R.read.is_not(None), covered)
                 .values(read=None))
    _drop_empty(conn, user_id, covered)


def _ensure_reader(conn: Connection, user_id: int) -> None:
    conn.execute(_insert(conn)(readers).on_conflict_do_nothing(), [{"user_id": user_id}])


# -- streams for sync clients

@dataclass(frozen=True, slots=True)
class Stream:
    """A sync client's stream: see ``Store.items_for_sync``."""

    source_id: int | None = None
    category: str | None = None
    saved_only: bool = False
    unread_only: bool = False
    read_only: bool = False
    newer_than: datetime | None = None
    older_than: datetime | None = None
    oldest_first: bool = False
    after_id: int | None = None
    before_cursor: str | None = None
    limit: int = 20


def items_for_sync(conn: Connection, user_id: int, stream: Stream) -> tuple[list[int], str | None]:
    """Article ids of ``stream`` in publication order and the cursor of the rest (None at the
    end). Raises ValueError for a malformed cursor."""
    limit = max(1, min(stream.limit, MAX_SYNC_LIMIT))
    base = base_mark(conn, user_id)
    query = _with_state(sa.select(A.id, A.published_at).select_from(articles), user_id)
    chosen = _scope_sources(conn, Scope(source_id=stream.source_id, category=stream.category))
    if chosen is not None:
        query = query.where(A.source_id.in_(chosen))
    if stream.saved_only:
        query = query.where(R.saved_at.is_not(None))
    if stream.unread_only:
        query = query.where(_is_unread(user_id, base))
    if stream.read_only:
        query = query.where(_is_read(user_id, base))
    if stream.newer_than is not None:
        query = query.where(A.published_at > stream.newer_than)
    if stream.older_than is not None:
        query = query.where(A.published_at < stream.older_than)
    if stream.after_id is not None:
        query = query.where(A.id > stream.after_id)
    if stream.before_cursor:
        moment, article_id = decode_cursor(stream.before_cursor)
        if stream.oldest_first:
            query = query.where(sa.or_(A.published_at > moment, sa.and_(A.published_at == moment, A.id > article_id)))
        else:
            query = query.where(sa.or_(A.published_at < moment, sa.and_(A.published_at == moment, A.id < article_id)))
    order = (A.published_at, A.id) if stream.oldest_first else (A.published_at.desc(), A.id.desc())
    rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [row.id for row in rows], encode_cursor(rows[-1].published_at, rows[-1].id) if more else None


# -- preferences and visits

def set_source_pref(conn: Connection, user_id: int, source_id: int, values: dict[str, bool]) -> None:
    """Set ``muted``/``followed`` on the reader's row for a source."""
    _upsert(conn, reader_sources, [{"user_id": user_id, "source_id": source_id, **values}],
            ["user_id", "source_id"], values)


def author_id(conn: Connection, name: str) -> int | None:
    return conn.execute(sa.select(authors.c.id).where(authors.c.key == author_key(name))).scalar()


def set_author_pref(conn: Connection, user_id: int, author: int, values: dict[str, bool]) -> None:
    _upsert(conn, reader_authors, [{"user_id": user_id, "author_id": author, **values}],
            ["user_id", "author_id"], values)
    conn.execute(sa.delete(reader_authors).where(reader_authors.c.user_id == user_id,
                                                 reader_authors.c.author_id == author,
                                                 reader_authors.c.muted == sa.false(),
                                                 reader_authors.c.followed == sa.false()))


def set_story_followed(conn: Connection, user_id: int, story_id: int, followed: bool) -> None:
    if followed:
        conn.execute(_insert(conn)(reader_stories).on_conflict_do_nothing(),
                     [{"user_id": user_id, "story_id": story_id}])
    else:
        conn.execute(sa.delete(reader_stories).where(reader_stories.c.user_id == user_id,
                                                     reader_stories.c.story_id == story_id))


def prefs(conn: Connection, user_id: int) -> ReaderPrefs:
    """Everything the reader mutes and follows: three small queries."""
    rs = conn.execute(sa.select(RS.source_id, RS.muted, RS.followed).where(
        RS.user_id == user_id, sa.or_(RS.muted, RS.followed))).all()
    ra = conn.execute(sa.select(authors.c.name, reader_authors.c.muted, reader_authors.c.followed)
                      .join(authors, authors.c.id == reader_authors.c.author_id)
                      .where(reader_authors.c.user_id == user_id).order_by(authors.c.name)).all()
    stories = conn.execute(sa.select(reader_stories.c.story_id).where(reader_stories.c.user_id == user_id))
    return ReaderPrefs(muted_sources=frozenset(r.source_id for r in rs if r.muted),
                       followed_sources=frozenset(r.source_id for r in rs if r.followed),
                       muted_authors=tuple(r.name for r in ra if r.muted),
                       followed_authors=tuple(r.name for r in ra if r.followed),
                       followed_stories=frozenset(stories.scalars()))


def visit(conn: Connection, user_id: int, now: datetime) -> tuple[int, bool]:
    """A wire page loaded at ``now``: the id above which articles are new since the reader's
    previous visit (a visit ends after ``VISIT_GAP`` without a wire page; on the first visit
    ever nothing is new), and whether to note it (``note_visit``): at most once a minute, so
    a reader's wire is a read, not a write, nearly always."""
    row = conn.execute(_VISIT, {"user": user_id}).first()
    if row is None or row.last_seen_at is None:
        return last_article_id(conn), True
    if now - row.last_seen_at > VISIT_GAP:
        return row.seen_up_to_id, True
    return row.new_after_id, now - row.last_seen_at >= VISIT_NOTE_EVERY


_VISIT = (sa.select(readers.c.last_seen_at, readers.c.seen_up_to_id, readers.c.new_after_id)
          .where(readers.c.user_id == sa.bindparam("user")))  # built once: every wire page asks


def note_visit(conn: Connection, user_id: int, now: datetime, new_after: int) -> None:
    _ensure_reader(conn, user_id)
    conn.execute(sa.update(readers).where(readers.c.user_id == user_id)
                 .values(last_seen_at=now, seen_up_to_id=last_article_id(conn), new_after_id=new_after))


def source_exists(conn: Connection, source_id: int) -> bool:
    return conn.execute(sa.select(sources.c.id).where(sources.c.id == source_id)).first() is not None
