"""Writing and reading articles.

The write path of a refresh, in order:

    entries ──dedupe by guid (last wins)──► SELECT stored (guid, id, hash, published_at)
            ──decide() (pure: new / changed / unchanged)──► executemany INSERT … RETURNING id
            ──executemany UPDATE by id──► author and category ids (cache, else INSERT … ON
              CONFLICT DO NOTHING + SELECT; on PostgreSQL ``create_names`` made them already,
              in a transaction of their own)──► executemany link rows

A new article that wants its page fetched (a full-text source's, or one whose feed text the
caller's ``teaser`` test calls a teaser) is written already "pending" for extraction, in the same
INSERT: a process killed after the commit leaves no teaser unmarked, whoever else runs.

Everything runs on the caller's connection, inside the caller's transaction. Authors and
categories are never deleted, so an id seen in a committed transaction stays valid; ``NameIds``
keeps those, and ids found in a transaction are only added to it after that transaction commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import Entry, StoreResult
from newswire.parse.authors import normalise_author_name

from .conflicts import insert_for
from .id_lists import in_ids
from .prepared import Many
from .search import strip_markers
from .tables import article_authors, article_categories, articles, authors, categories, sources

CHUNK = 500  # bound on IN (…) lists and parameters per statement

# The hot path's writes, built once and compiled once per dialect (see prepared.py).
_INSERT_ARTICLES = Many(sa.insert(articles))
_UPDATE_ARTICLES = Many(sa.update(articles).where(articles.c.id == sa.bindparam("b_id")))
_INSERT_AUTHOR_LINKS = Many(sa.insert(article_authors))
_INSERT_CATEGORY_LINKS = Many(sa.insert(article_categories))
# Its reads, built once too: SQLAlchemy then reuses their compiled form without building a
# statement and its cache key again on every call.
_OF_SOURCE = (articles.c.source_id == sa.bindparam("source_id"),
              articles.c.guid.in_(sa.bindparam("guids", expanding=True)))
_STORED = sa.select(articles.c.guid, articles.c.id, articles.c.content_hash, articles.c.published_at,
                    articles.c.published_estimated).where(*_OF_SOURCE)
_IDS = sa.select(articles.c.guid, articles.c.id).where(*_OF_SOURCE)
_FULL_TEXT = sa.select(sources.c.full_text).where(sources.c.id == sa.bindparam("source_id"))


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    content_hash: str
    published_at: datetime
    published_estimated: bool


@dataclass
class Plan:
    """What a batch of entries does to the stored articles of one source."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    links: dict[str, Entry] = field(default_factory=dict)  # guid → entry, for new and changed


@dataclass
class NameIds:
    """Ids of authors (by key) and categories (by name) known to be committed."""

    authors: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)

    def merge(self, other: "NameIds") -> None:
        self.authors.update(other.authors)
        self.categories.update(other.categories)


def author_key(name: str) -> str:
    """The identity of an author: the parser's key (NFKC, case-folded, whitespace collapsed), so
    parse, store, pages and the live stream agree that "José" composed and decomposed are one."""
    return normalise_author_name(name)


def clean_names(names: Iterable[str], key: Any = lambda n: n) -> list[str]:
    """Names with whitespace collapsed, empties and repeats (by ``key``) dropped, order kept."""
    seen: set[str] = set()
    out = []
    for name in names:
        name = " ".join(name.split())
        if name and key(name) not in seen:
            seen.add(key(name))
            out.append(name)
    return out


def content_hash(entry: Entry) -> str:
    """A digest of everything that makes an entry "changed". An estimated publication time is
    left out: it is the time of first sight, and differs on every refresh."""
    published = None if entry.published_estimated or entry.published is None else entry.published
    fields = [
        entry.title, entry.url, "\x1e".join(entry.authors), entry.summary, entry.content_html,
        entry.text, entry.snippet, "\x1e".join(entry.categories),
        "\x1e".join(f"{e.url}\x1d{e.type}\x1d{e.length}" for e in entry.enclosures),
        entry.language, _iso(published), _iso(entry.updated),
        *([entry.credit] if entry.credit else []),  # only when set: older digests stay valid
    ]
    digest = hashlib.blake2b(digest_size=16)
    for value in fields:  # a field separator no text contains; None differs from ""
        digest.update(b"\x00" if value is None else value.encode("utf-8", "surrogatepass") + b"\x1f")
    return digest.hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def decide(entries: Sequence[Entry], stored: Mapping[str, Stored], now: datetime,
           source_id: int) -> Plan:
    """Sort entries into new, changed and unchanged rows. Pure: no I/O.

    A repeated guid counts once, with its last entry. An update never replaces a stored
    publication time with an estimated one."""
    plan = Plan()
    for entry in {e.guid: e for e in entries}.values():
        digest = content_hash(entry)
        old = stored.get(entry.guid)
        if old is not None and old.content_hash == digest:
            plan.unchanged += 1
            continue
        row = _row(entry, digest)
        if old is None:
            estimated = entry.published_estimated or entry.published is None
            row.update(source_id=source_id, guid=entry.guid, first_seen_at=now,
                       published_at=entry.published or now, published_estimated=estimated,
                       updated_at=entry.updated)
            plan.new.append(row)
        else:
            keep = entry.published_estimated or entry.published is None
            row.update(b_id=old.id, updated_at=entry.updated or now, changed_at=now,
                       published_at=old.published_at if keep else entry.published,
                       published_estimated=old.published_estimated if keep else False)
            plan.changed.append(row)
        plan.links[entry.guid] = entry
    return plan


def _row(entry: Entry, digest: str) -> dict[str, Any]:
    return {
        "url": entry.url, "title": entry.title,
        "authors_text": ", ".join(clean_names(entry.authors, author_key)), "credit": entry.credit,
        "summary": entry.summary, "content_html": entry.content_html,
        "text": strip_markers(entry.text), "snippet": entry.snippet, "language": entry.language,
        "enclosures": [{"url": e.url, "type": e.type, "length": e.length} for e in entry.enclosures],
        "content_hash": digest,
    }


Teaser = Callable[[str], bool]  # "this feed text is only a teaser": its page is worth fetching


def upsert_entries(conn: Connection, source_id: int, entries: Sequence[Entry], now: datetime,
                   known: NameIds, found: NameIds, teaser: Teaser | None = None) -> StoreResult:
    """Insert new entries and update changed ones; ids learnt go into ``found``. New articles
    with a URL are marked pending for extraction, due ``now``, when the source is ``full_text``
    or ``teaser`` says their text is a teaser (see ``mark_wanted``)."""
    if not entries:
        return StoreResult()
    stored = _stored(conn, source_id, list({e.guid for e in entries}))
    plan = decide(entries, stored, now, source_id)
    ids: dict[str, int] = {}
    if plan.new:
        mark_wanted(plan.new, _full_text(conn, source_id), teaser, now)
        # A plain executemany is one driver call; INSERT … RETURNING would be one per row on
        # SQLite. The new ids are then read back in one query.
        _INSERT_ARTICLES(conn, plan.new)
        ids.update(_new_ids(conn, source_id, [r["guid"] for r in plan.new]))
    if plan.changed:
        _UPDATE_ARTICLES(conn, plan.changed)
        changed_ids = [row["b_id"] for row in plan.changed]
        for chunk in _chunks(changed_ids):
            conn.execute(sa.delete(article_authors).where(article_authors.c.article_id.in_(chunk)))
            conn.execute(sa.delete(article_categories).where(article_categories.c.article_id.in_(chunk)))
        ids.update((guid, stored[guid].id) for guid in plan.links if guid in stored)
    _write_links(conn, {ids[guid]: entry for guid, entry in plan.links.items()}, known, found)
    new_guids = {row["guid"] for row in plan.new}
    return StoreResult(new=len(plan.new), updated=len(plan.changed), unchanged=plan.unchanged,
                       new_ids=tuple(sorted(ids[g] for g in new_guids)),
                       updated_ids=tuple(sorted(ids[g] for g in plan.links if g not in new_guids)))


def mark_wanted(rows: list[dict[str, Any]], full_text: bool, teaser: Teaser | None, now: datetime) -> None:
    """Set each new row's extraction columns: pending and due ``now`` when it has a URL and its
    source is ``full_text`` or ``teaser`` calls its text a teaser; else undecided (None). Every
    row gets both keys: one executemany INSERT needs the same columns in every row."""
    for row in rows:
        wanted = bool(row["url"]) and (full_text or (teaser is not None and teaser(row["text"] or "")))
        row["extraction_status"] = "pending" if wanted else None
        row["extraction_due_at"] = now if wanted else None


def _full_text(conn: Connection, source_id: int) -> bool:
    """The source's switch as this transaction sees it (extraction may have just turned it on)."""
    return bool(conn.execute(_FULL_TEXT, {"source_id": source_id}).scalar())


def _stored(conn: Connection, source_id: int, guids: list[str]) -> dict[str, Stored]:
    out: dict[str, Stored] = {}
    for chunk in _chunks(guids):
        for guid, *rest in conn.execute(_STORED, {"source_id": source_id, "guids": chunk}):
            out[guid] = Stored(*rest)
    return out


def _new_ids(conn: Connection, source_id: int, guids: list[str]) -> dict[str, int]:
    """The ids of articles just inserted, by guid: only the ids, no times to convert."""
    out: dict[str, int] = {}
    for chunk in _chunks(guids):
        out.update((guid, id_) for guid, id_ in conn.execute(_IDS, {"source_id": source_id, "guids": chunk}))
    return out


def _write_links(conn: Connection, by_id: dict[int, Entry], known: NameIds, found: NameIds) -> None:
    names = {id_: clean_names(e.authors, author_key) for id_, e in by_id.items()}
    cats = {id_: clean_names(e.categories) for id_, e in by_id.items()}
    author_ids = _ids(conn, authors, authors.c.key,
                      {author_key(n): {"name": n, "key": author_key(n)} for ns in names.values() for n in ns},
                      known.authors, found.authors)
    category_ids = _ids(conn, categories, categories.c.name,
                        {n: {"name": n} for ns in cats.values() for n in ns},
                        known.categories, found.categories)
    author_rows = [{"article_id": id_, "author_id": author_ids[author_key(n)], "position": i}
                   for id_, ns in names.items() for i, n in enumerate(ns)]
    category_rows = [{"article_id": id_, "category_id": category_ids[n]}
                     for id_, ns in cats.items() for n in ns]
    _INSERT_AUTHOR_LINKS(conn, author_rows)
    _INSERT_CATEGORY_LINKS(conn, category_rows)


def create_names(conn: Connection, entries: Iterable[Entry], known: NameIds, found: NameIds) -> None:
    """Create the author and category rows ``entries`` name that ``known`` lacks, in key order;
    ids learnt go into ``found``. ``Store`` runs it on PostgreSQL in a short transaction before
    each write, so that workers writing at once never create names inside their long writes
    (see ``Store._create_names``)."""
    entries = list(entries)
    _ids(conn, authors, authors.c.key,
         {author_key(n): {"name": n, "key": author_key(n)} for e in entries for n in clean_names(e.authors, author_key)},
         known.authors, found.authors)
    _ids(conn, categories, categories.c.name,
         {n: {"name": n} for e in entries for n in clean_names(e.categories)},
         known.categories, found.categories)


def _ids(conn: Connection, table: sa.Table, key: sa.Column[str], wanted: dict[str, dict[str, str]],
         known: dict[str, int], found: dict[str, int]) -> dict[str, int]:
    """Ids for ``wanted`` keys, creating the missing rows. Safe against a concurrent writer:
    the conflict is ignored and the winner's row selected. Rows are created in key order, so
    two writers creating overlapping names lock them in the same order."""
    out = {k: known.get(k) or found.get(k) for k in wanted}
    missing = sorted(k for k, v in out.items() if v is None)
    if missing:
        insert, select = _name_statements(conn, table, key)
        insert(conn, [wanted[k] for k in missing])
        for chunk in _chunks(missing):
            for id_, k in conn.execute(select, {"keys": chunk}):
                out[k] = found[k] = id_
    return out  # type: ignore[return-value]


_NAME_STATEMENTS: dict[tuple[str, str], tuple[Many, sa.Select[Any]]] = {}


def _name_statements(conn: Connection, table: sa.Table, key: sa.Column[str]) -> tuple[Many, sa.Select[Any]]:
    """Built once per dialect and table: ``INSERT … ON CONFLICT DO NOTHING`` of names, and the
    SELECT of their ids by key."""
    found = _NAME_STATEMENTS.get((conn.dialect.name, table.name))
    if found is None:
        found = _NAME_STATEMENTS[(conn.dialect.name, table.name)] = (
            Many(insert_for(conn)(table).on_conflict_do_nothing(index_elements=[key])),
            sa.select(table.c.id, key).where(key.in_(sa.bindparam("keys", expanding=True))))
    return found


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def count(conn: Connection, source_id: int | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(articles)
    if source_id is not None:
        query = query.where(articles.c.source_id == source_id)
    return int(conn.execute(query).scalar_one())


def authors_of(conn: Connection, article_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Author names of each article, in byline order."""
    return _names_of(conn, article_ids, article_authors, article_authors.c.author_id, authors,
                     article_authors.c.position)


def categories_of(conn: Connection, article_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Category names of each article, sorted by name."""
    return _names_of(conn, article_ids, article_categories, article_categories.c.category_id, categories,
                     categories.c.name)


def _names_of(conn: Connection, article_ids: list[int], links: sa.Table, name_id: sa.Column[int],
              names: sa.Table, order: sa.ColumnElement[Any]) -> dict[int, tuple[str, ...]]:
    """The names linked to each article through ``links``, in ``order``."""
    out: dict[int, list[str]] = {}
    query = _names_query(links, name_id, names, order)
    for chunk in _chunks(article_ids):
        for article_id, name in conn.execute(query, {"ids": chunk}):
            out.setdefault(article_id, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=None)
def _names_query(links: sa.Table, name_id: sa.Column[int], names: sa.Table,
                 order: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """Built once: every listing asks for its authors, and building a statement costs more than
    running it (SQLAlchemy reuses a built one's compiled form)."""
    return (sa.select(links.c.article_id, names.c.name)
            .join(names, names.c.id == name_id)
            .where(in_ids(links.c.article_id))
            .order_by(links.c.article_id, order))
