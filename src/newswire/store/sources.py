"""Rows of the ``sources`` table: followed feeds and their health."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any, Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from newswire.models import Source, SourceUpdate

from . import server_values
from .conflicts import insert_for
from .prepared import Many
from .tables import articles, sources

_FIELDS = [name for name in Source.__dataclass_fields__ if name != "article_count"]

# Fields of SourceUpdate where None means "leave as stored".
_OPTIONAL = ("etag", "last_modified", "feed_url", "enabled", "name", "site_url")


def to_source(row: Row[Any], article_count: int = 0) -> Source:
    values = row._mapping
    return Source(**{name: values[name] for name in _FIELDS}, article_count=article_count)


CATEGORIES_KEY = "source_categories"  # a server value that changes whenever ``categories`` would


def categories_changed(conn: Connection) -> None:
    """Say that a source was added, removed or put in another category: every process's kept
    ``categories`` is stale (``Store.source_categories``)."""
    server_values.put(conn, CATEGORIES_KEY, secrets.token_hex(8))


def insert(conn: Connection, values: dict[str, Any]) -> int | None:
    """Insert a source; None when its feed URL is already followed."""
    dialect_insert = insert_for(conn)
    statement = (dialect_insert(sources).values(**values)
                 .on_conflict_do_nothing(index_elements=[sources.c.feed_url]).returning(sources.c.id))
    source_id = conn.execute(statement).scalar()
    if source_id is not None:
        categories_changed(conn)
    return source_id


def get(conn: Connection, source_id: int) -> Source | None:
    count = (sa.select(sa.func.count()).where(articles.c.source_id == source_id)
             .scalar_subquery().label("article_count"))
    row = conn.execute(sa.select(sources, count).where(sources.c.id == source_id)).first()
    return to_source(row, row.article_count) if row else None


def find(conn: Connection, feed_url: str) -> Source | None:
    row = conn.execute(sa.select(sources).where(sources.c.feed_url == feed_url)).first()
    return to_source(row) if row else None


def list_all(conn: Connection, with_counts: bool = True) -> list[Source]:
    """Every source by id; ``article_count`` filled only ``with_counts`` (it counts every article:
    a sync API listing feeds many times a minute does not want that)."""
    if not with_counts:
        return [to_source(row) for row in conn.execute(sa.select(sources).order_by(sources.c.id))]
    counts = (sa.select(articles.c.source_id, sa.func.count().label("n"))
              .group_by(articles.c.source_id).subquery())
    query = (sa.select(sources, sa.func.coalesce(counts.c.n, 0).label("article_count"))
             .outerjoin(counts, counts.c.source_id == sources.c.id).order_by(sources.c.id))
    return [to_source(row, row.article_count) for row in conn.execute(query)]


def categories(conn: Connection) -> dict[int, str | None]:
    """source id → its category, every source: all that unread counts by label need."""
    return dict(conn.execute(sa.select(sources.c.id, sources.c.category)).all())  # type: ignore[arg-type]  # rows unpack as pairs


_HEALTH = sa.select(sa.func.coalesce(sa.func.sum(sa.case((sources.c.consecutive_failures > 0, 1), else_=0)), 0),
                    sa.func.count()).where(sources.c.enabled)  # built once: every wire page asks


def health_counts(conn: Connection) -> tuple[int, int]:
    """(failing, followed) among the enabled sources; failing: its last fetch failed."""
    failing, followed = conn.execute(_HEALTH).one()
    return int(failing), int(followed)


def due(conn: Connection, now: datetime, include_all: bool, limit: int | None = None,
        excluding: Collection[int] = ()) -> list[Source]:
    """Enabled sources due at ``now`` (all enabled ones with ``include_all``) that no worker
    holds a live lease on, but those in ``excluding``; ``limit`` at most."""
    query = sa.select(sources).where(sources.c.enabled.is_(True), _not_leased(now))
    if not include_all:
        query = query.where(_due(now))
    if excluding:
        query = query.where(sources.c.id.not_in(list(excluding)))
    query = query.order_by(sources.c.next_due_at.asc().nulls_first(), sources.c.id).limit(limit)
    return [to_source(row) for row in conn.execute(query)]


def next_due(conn: Connection, excluding: Collection[int] = ()) -> datetime | None:
    """When the earliest enabled source (but those in ``excluding``) can next be claimed: its
    ``next_due_at``, or, while a worker's lease on it runs, when the lease expires if that is
    later. None when no such source; ``datetime.min`` (UTC) when one was never fetched and is not
    leased. Articles are not counted."""
    c = sources.c
    where = [c.enabled.is_(True), *([c.id.not_in(list(excluding))] if excluding else [])]
    fresh = sa.select(c.id).where(*where, c.next_due_at.is_(None), c.lease_until.is_(None)).limit(1)
    if conn.execute(fresh).first():
        return datetime.min.replace(tzinfo=timezone.utc)
    lease_later = sa.and_(c.lease_until.is_not(None),
                          sa.or_(c.next_due_at.is_(None), c.lease_until > c.next_due_at))
    claimable = sa.case((lease_later, c.lease_until), else_=c.next_due_at)
    return conn.execute(sa.select(sa.func.min(claimable)).where(*where)).scalar()


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(sources.c.next_due_at.is_(None), sources.c.next_due_at <= now)


def _not_leased(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now)


def lease(conn: Connection, owner: str, now: datetime, until: datetime, limit: int) -> list[Source]:
    """Claim up to ``limit`` due, unleased sources for ``owner`` until ``until``. On PostgreSQL
    the rows are picked FOR UPDATE SKIP LOCKED, so workers claiming at the same moment never
    wait for each other or get the same source; on SQLite the write transaction is exclusive."""
    pick = (sa.select(sources.c.id).where(sources.c.enabled.is_(True), _due(now), _not_leased(now))
            .order_by(sources.c.next_due_at.asc().nulls_first(), sources.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    conn.execute(sa.update(sources).where(sources.c.id.in_(ids)).values(lease_owner=owner, lease_until=until))
    rows = conn.execute(sa.select(sources).where(sources.c.id.in_(ids))
                        .order_by(sources.c.next_due_at.asc().nulls_first(), sources.c.id))
    return [to_source(row) for row in rows]


_UPDATE = Many(sa.update(sources).where(sources.c.id == sa.bindparam("b_id")))


def update(conn: Connection, source_id: int, values: dict[str, Any]) -> bool:
    """Write ``values``; False when there is no such source. Every refresh writes its outcome
    here: the statement is built once (``prepared.Many``)."""
    unknown = values.keys() - sources.c.keys()
    if unknown:  # as .values() would refuse them, rather than leave them out
        raise sa.exc.CompileError(f"Unconsumed column names: {', '.join(sorted(unknown))}")
    written = _UPDATE(conn, [{**values, "b_id": source_id}])
    if written > 0 and "category" in values:
        categories_changed(conn)
    return written > 0


def delete(conn: Connection, source_id: int) -> bool:
    if conn.execute(sa.delete(sources).where(sources.c.id == source_id)).rowcount == 0:
        return False
    categories_changed(conn)
    return True


# Fields a refresh outcome always writes, and those it may leave as stored (``_OPTIONAL``) that
# ``update_many`` writes as COALESCE(new, stored). Not ``feed_url``: a moved feed's new URL can
# meet the unique constraint, which a refresh must meet alone (``Store.save_refreshes``).
_ALWAYS = ("last_fetched_at", "last_status", "last_error", "consecutive_failures", "next_due_at",
           "lease_owner", "lease_until")
_KEPT_UNLESS_GIVEN = tuple(name for name in _OPTIONAL if name != "feed_url")
_UPDATE_MANY = (
    sa.update(sources).where(sources.c.id == sa.bindparam("b_id"))
    .values({**{name: sa.bindparam(f"b_{name}", type_=sources.c[name].type) for name in _ALWAYS},
             **{name: sa.func.coalesce(sa.bindparam(f"b_{name}", type_=sources.c[name].type), sources.c[name])
                for name in _KEPT_UNLESS_GIVEN}}))


def fits_update_many(update: SourceUpdate) -> bool:
    """Whether ``update_many`` can write this outcome: any that does not move the feed."""
    return update.feed_url is None


def update_many(conn: Connection, updates: Sequence[tuple[int, SourceUpdate]]) -> int:
    """Write several refresh outcomes (each ``fits_update_many``) in one statement, in order; the
    number of rows written, which is ``len(updates)`` unless a source is missing. An unchanged
    pass writes one of these per batch rather than a statement (and a savepoint) per feed."""
    if not updates:
        return 0
    rows = []
    for source_id, update in updates:
        values = update_values(update)
        rows.append({"b_id": source_id, **{f"b_{name}": values[name] for name in _ALWAYS},
                     **{f"b_{name}": values.get(name) for name in _KEPT_UNLESS_GIVEN}})
    return conn.execute(_UPDATE_MANY, rows).rowcount


def update_values(update: SourceUpdate) -> dict[str, Any]:
    """The columns a refresh outcome writes: always its health, and the optional fields that
    are set."""
    values: dict[str, Any] = {
        "last_fetched_at": update.fetched_at, "last_status": update.status, "last_error": update.error,
        "consecutive_failures": update.consecutive_failures, "next_due_at": update.next_due_at,
        "lease_owner": None, "lease_until": None,  # a recorded outcome ends any worker's lease
    }
    values.update({name: getattr(update, name) for name in _OPTIONAL if getattr(update, name) is not None})
    return values
