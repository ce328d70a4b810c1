"""Full-text search: one query parser, two renderings, two engines.

    user text ──parse_query──► [Term] ──to_fts5──────► SQLite FTS5 MATCH, ranked by bm25
                                      └─to_tsquery───► PostgreSQL to_tsquery('english'), ts_rank_cd

The parser keeps only words, "quoted phrases" and prefix* terms made of letters and digits, so
nothing a user types can be query syntax: no error, no injection. Terms are ANDed.

An article is found by its title, authors and feed text, and by the first ``PAGE_INDEX_CHARS``
characters of the text extracted from its page (migration 0016): indexed by the engine in the
transaction that stores the article or saves its page, so it is searchable as soon as the wire
shows it and found by its full text as soon as that arrives. Its snippet comes from the feed's
text when the match is there, else from the page's: built by one function (``_hit_rows``) for
both orders of ``search`` and for a listing of matches read newest first (``snippets``), so the
search page shows an article alike whichever order it asks for.

Snippets come back from the engine with matches between two control characters that the store
strips from article text on write (``strip_markers``), so they cannot be confused with article
text; the snippet is then HTML-escaped and only then are the markers replaced by <mark>.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newswire.models import SearchHit

from .id_lists import IdList
from . import recent
from .tables import ORIGINALS, UTCDateTime

MARK_START = "\x02"
MARK_END = "\x03"
MAX_TERMS = 16
MIN_PREFIX = 3  # "a*" would read most of the index; shorter prefixes are searched as words
TITLE_WEIGHT, AUTHORS_WEIGHT, TEXT_WEIGHT, PAGE_WEIGHT = 10.0, 5.0, 1.0, 0.5
PAGE_INDEX_CHARS = 20_000  # of a page's text, indexed (migration 0016 holds the same figure)

_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Term:
    kind: Literal["word", "phrase", "prefix", "any"]  # "any": one of ``words`` (an expanded prefix)
    words: tuple[str, ...]


def parse_query(query: str) -> list[Term]:
    """Split user input into terms; everything but letters and digits is dropped.

    An unclosed quote runs to the end of the input. ``word*`` is a prefix term only when the
    star directly follows a word of at least ``MIN_PREFIX`` letters."""
    terms: list[Term] = []
    for phrase, token in _TOKEN.findall(unicodedata.normalize("NFC", query)):
        if phrase:
            words = tuple(_WORD.findall(phrase.lower()))
            if len(words) > 1:
                terms.append(Term("phrase", words))
            elif words:
                terms.append(Term("word", words))
            continue
        words = tuple(_WORD.findall(token.lower()))
        for i, word in enumerate(words):
            last = i == len(words) - 1
            prefix = (last and len(word) >= MIN_PREFIX
                      and re.search(rf"{re.escape(word)}\*+\W*$", token.lower()) is not None)
            terms.append(Term("prefix" if prefix else "word", (word,)))
    return terms[:MAX_TERMS]


def to_fts5(terms: list[Term]) -> str:
    """FTS5 MATCH syntax: every term a double-quoted string (implicitly ANDed)."""
    parts = []
    for term in terms:
        if term.kind == "any":
            parts.append("(" + " OR ".join(f'"{word}"' for word in term.words) + ")")
            continue
        quoted = '"' + " ".join(term.words) + '"'
        parts.append(quoted + "*" if term.kind == "prefix" else quoted)
    return " AND ".join(parts)


MAX_EXPANSION = 64


def expand_prefixes(conn: Connection, terms: list[Term]) -> list[Term]:
    """SQLite: replace each prefix term by the indexed words it stands for, when there are at
    most ``MAX_EXPANSION`` of them. FTS5 evaluates ``word*`` by merging every matching doclist
    again for each row it looks at; an OR of known words is read incrementally."""
    out = []
    for term in terms:
        if term.kind == "prefix":
            prefix = term.words[0]
            words = conn.execute(sa.text(
                "SELECT term FROM articles_fts_terms WHERE term >= :low AND term < :high LIMIT :n"),
                {"low": prefix, "high": prefix + "\U0010ffff", "n": MAX_EXPANSION + 1}).scalars().all()
            if 0 < len(words) <= MAX_EXPANSION:
                term = Term("any", tuple(words))
        out.append(term)
    return out


def to_tsquery(terms: list[Term]) -> str:
    """PostgreSQL to_tsquery syntax: phrases with <->, prefixes with :*, terms joined by &."""
    parts = []
    for term in terms:
        if term.kind == "phrase":
            parts.append("(" + " <-> ".join(term.words) + ")")
        elif term.kind == "prefix":
            parts.append(term.words[0] + ":*")
        else:
            parts.append(term.words[0])
    return " & ".join(parts)


def strip_markers(text: str) -> str:
    """Remove the snippet marker characters from text before it is stored."""
    if MARK_START in text or MARK_END in text:
        return text.replace(MARK_START, "").replace(MARK_END, "")
    return text


def render_snippet(raw: str | None) -> str:
    """Escape the engine's snippet, then turn the markers into <mark> elements."""
    return html.escape(raw or "").replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


# The chosen hits with their snippets. No bm25 here: FTS5 would count the whole doclist again.
_SQLITE_HITS = sa.text("""
    SELECT a.id, a.title, a.url, a.source_id, s.name AS source_name, a.published_at,
           snippet(articles_fts, 2, :start, :end, '…', 32) AS snippet,
           a.page_text IS NOT NULL AS has_page
    FROM articles_fts
    JOIN articles a ON a.id = articles_fts.rowid
    JOIN sources s ON s.id = a.source_id
    WHERE articles_fts MATCH :query AND articles_fts.rowid IN (SELECT value FROM json_each(:ids))
""").bindparams(sa.bindparam("ids", type_=IdList())).columns(published_at=UTCDateTime)

# The page's snippet, for the hits matched by their page's text alone (asked for only then).
_SQLITE_PAGE_SNIPPETS = sa.text("""
    SELECT rowid AS id, snippet(articles_fts, 3, :start, :end, '…', 32) AS snippet
    FROM articles_fts WHERE articles_fts MATCH :query AND rowid IN :ids
""").bindparams(sa.bindparam("ids", expanding=True))


def _postgres_ids(*, newest: bool, originals_only: bool = False) -> sa.TextClause:
    """(id, rank) of the hits, best first, or newest first after a keyset; syndicated copies
    left out with ``originals_only``. Ranked and limited here; the costly headlines are built
    by ``_POSTGRES_HITS`` for the few rows kept."""
    keyset = "AND (a.published_at, a.id) < (:before_at, :before_id)" if newest else ""
    if originals_only:
        keyset += " AND a.duplicate_of IS NULL"
    inner = "" if newest else "rank DESC, "
    return sa.text(f"""
    WITH q AS (SELECT to_tsquery('english'::regconfig, :query) AS query)
    SELECT a.id, ts_rank_cd(a.search_vector, q.query) AS rank
    FROM articles a, q
    WHERE a.search_vector @@ q.query {keyset}
    ORDER BY {inner}a.published_at DESC, a.id DESC
    LIMIT :limit
    """)


_POSTGRES_IDS = {(newest, originals): _postgres_ids(newest=newest, originals_only=originals)
                 for newest in (False, True) for originals in (False, True)}

# The hits with their headlines. The page's headline is built only for a hit whose feed text
# holds no match (it was found by its page alone).
_POSTGRES_HITS = sa.text(f"""
    WITH q AS (SELECT to_tsquery('english'::regconfig, :query) AS query)
    SELECT a.id, a.title, a.url, a.source_id, s.name AS source_name, a.published_at,
           CASE WHEN a.page_text IS NULL OR strpos(head.feed, :start) > 0 THEN head.feed
                ELSE ts_headline('english'::regconfig, left(a.page_text, {PAGE_INDEX_CHARS}), q.query, :options)
           END AS snippet
    FROM articles a JOIN sources s ON s.id = a.source_id, q,
         LATERAL (SELECT ts_headline('english'::regconfig, a.text, q.query, :options) AS feed
                  OFFSET 0) head  -- a fence: not pulled up, so built once, not once per use
    WHERE a.id = ANY(:ids)
""").bindparams(sa.bindparam("ids", type_=IdList())).columns(published_at=UTCDateTime)

_HEADLINE_OPTIONS = (f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=35, MinWords=15, '
                     'MaxFragments=2, FragmentDelimiter=" … "')


def match_clause(dialect: str, terms: list[Term]) -> sa.ColumnElement[bool]:
    """A WHERE condition on ``articles`` that keeps the articles matching ``terms``."""
    if dialect == "sqlite":
        return sa.text("articles.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts_query)"
                       ).bindparams(fts_query=to_fts5(terms))
    return sa.text("articles.search_vector @@ to_tsquery('english'::regconfig, :ts_query)"
                   ).bindparams(ts_query=to_tsquery(terms))


def search(conn: Connection, query: str, limit: int, order: Literal["rank", "newest"] = "rank",
           before: tuple[datetime, int] | None = None, originals_only: bool = False) -> list[SearchHit]:
    """Hits for ``query``, best first or newest first (then only those older than the keyset
    ``before``), without syndicated copies when ``originals_only`` (as the wire lists them);
    authors are left empty for the caller to fill. The ids are chosen first, then
    ``_hit_rows`` builds the snippets of those few."""
    terms = parse_query(query)
    if not terms or limit <= 0:
        return []
    engine_query = _engine_query(conn, terms)
    if conn.dialect.name == "sqlite":
        scored = _sqlite_ids(conn, engine_query, limit, order, before, originals_only)
    else:
        statement = _POSTGRES_IDS[order == "newest", originals_only]
        if order == "newest":
            before_at, before_id = before or (datetime.max.replace(tzinfo=timezone.utc), 2**62)
            statement = statement.bindparams(sa.bindparam("before_at", before_at, type_=UTCDateTime),
                                             before_id=before_id)
        scored = [(row.id, float(row.rank))
                  for row in conn.execute(statement, {"query": engine_query, "limit": limit})]
    rows = _hit_rows(conn, engine_query, [id_ for id_, _ in scored])
    return [SearchHit(article_id=id_, title=rows[id_]["title"], url=rows[id_]["url"],
                      source_id=rows[id_]["source_id"], source_name=rows[id_]["source_name"], authors=(),
                      published_at=rows[id_]["published_at"], snippet=render_snippet(rows[id_]["snippet"]),
                      rank=score) for id_, score in scored if id_ in rows]


def snippets(conn: Connection, query: str, article_ids: Sequence[int]) -> dict[int, str]:
    """The snippet ``search`` gives each of ``article_ids`` that matches ``query``, by id: what
    a listing of matches found another way (newest first, ``reading``) shows, so both orders
    of the search page show an article alike, a match in its page's text alone included."""
    terms = parse_query(query)
    if not terms or not article_ids:
        return {}
    rows = _hit_rows(conn, _engine_query(conn, terms), list(article_ids))
    return {id_: render_snippet(row["snippet"]) for id_, row in rows.items()}


def _engine_query(conn: Connection, terms: list[Term]) -> str:
    """``terms`` in the engine's query syntax (on SQLite, prefixes expanded to indexed words)."""
    if conn.dialect.name == "sqlite":
        return to_fts5(expand_prefixes(conn, terms))
    return to_tsquery(terms)


def _hit_rows(conn: Connection, engine_query: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The hits among ``ids`` by id, each with its snippet: from the feed's text when the match
    is there, else from the page's (the hit was found by its page alone)."""
    if not ids:
        return {}
    marks = {"query": engine_query, "start": MARK_START, "end": MARK_END}
    if conn.dialect.name != "sqlite":
        return {row.id: dict(row._mapping)
                for row in conn.execute(_POSTGRES_HITS, {**marks, "options": _HEADLINE_OPTIONS, "ids": ids})}
    rows = {row.id: dict(row._mapping) for row in conn.execute(_SQLITE_HITS, {**marks, "ids": ids})}
    by_page = [id_ for id_, row in rows.items() if row.pop("has_page") and MARK_START not in (row["snippet"] or "")]
    if by_page:  # found by their page's text alone: its snippet shows why
        for id_, snippet in conn.execute(_SQLITE_PAGE_SNIPPETS, {**marks, "ids": by_page}):
            if snippet and MARK_START in snippet:
                rows[id_]["snippet"] = snippet
    return rows


def _sqlite_ids(conn: Connection, fts_query: str, limit: int, order: str,
                before: tuple[datetime, int] | None, originals_only: bool) -> list[tuple[int, float]]:
    """(id, score) of the hits, chosen by ``recent``: best first or newest first."""
    if order == "rank":
        return recent.ranked_ids(conn, fts_query, limit, (TITLE_WEIGHT, AUTHORS_WEIGHT, TEXT_WEIGHT, PAGE_WEIGHT),
                                 originals_only=originals_only)
    originals = [ORIGINALS] if originals_only else []
    return [(id_, 0.0) for id_ in recent.newest_ids(conn, fts_query, limit, before=before, conditions=originals)]
