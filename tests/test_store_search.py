"""Full-text search: the shared query parser, and the same searches on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newswire.models import Entry, SourceUpdate
from newswire.store import Store
from newswire.store.search import expand_prefixes, Term, parse_query, render_snippet, to_fts5, to_tsquery

T0 = datetime(2025, 9, 17, 18, 56, tzinfo=timezone.utc)

ARTICLES = [
    Entry(guid="ferry", url="http://example.test/ferry", title="Ferry operator delays winter schedule",
          authors=("Chloé Bélanger",), published=T0,
          text="The harbour ferry will run fewer crossings this winter, officials said on Tuesday. "
               "Commuters in Maple Harbour raised concerns about the winter schedule."),
    Entry(guid="budget", url="http://example.test/budget", title="Council approves budget plan",
          authors=("Omar Okafor", "Priya Nakamura"), published=T0 - timedelta(hours=1),
          text="The city council voted to approve the budget plan after a long public meeting. "
               "The harbour authority will receive new funding for repairs."),
    Entry(guid="festival", url="http://example.test/festival", title="Arts festival unveils program",
          authors=("Sven Lindqvist",), published=T0 - timedelta(hours=2),
          text="Organisers of the café crawl and the arts festival unveiled a program of <b>concerts</b> "
               "& readings. Tickets go on sale in spring."),
]


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    source = s.add_source("http://example.test/feed", name="The Gazette")
    s.save_refresh(source.id, SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0), ARTICLES)
    yield s
    s.close()


def guids(store: Store, query: str) -> list[str]:
    return [store.get_article(h.article_id).guid for h in store.search(query)]


# the parser

@pytest.mark.parametrize("query, terms", [
    ("ferry", [Term("word", ("ferry",))]),
    ("Ferry  Winter", [Term("word", ("ferry",)), Term("word", ("winter",))]),
    ('"budget plan" counc*', [Term("phrase", ("budget", "plan")), Term("prefix", ("counc",))]),
    ('"single"', [Term("word", ("single",))]),
    ('"unclosed phrase here', [Term("phrase", ("unclosed", "phrase", "here"))]),
    ("it's AND (x OR y) -z NEAR/2 col:val ^a", [Term("word", (w,)) for w in
                                               ["it", "s", "and", "x", "or", "y", "z", "near", "2", "col", "val", "a"]]),
    ("*** \"\" () ; -- ' :*", []),
    ("tr* ferr*", [Term("word", ("tr",)), Term("prefix", ("ferr",))]),  # too short to be a prefix
    ("", []),
])
def test_parse_query(query, terms):
    assert parse_query(query) == terms


def test_renderings():
    terms = parse_query('"budget plan" counc* ferry')
    assert to_fts5(terms) == '"budget plan" AND "counc"* AND "ferry"'
    assert to_fts5([Term("any", ("council", "counsel")), Term("word", ("ferry",))]) == \
        '("council" OR "counsel") AND "ferry"'
    assert to_tsquery(terms) == "(budget <-> plan) & counc:* & ferry"


def test_render_snippet_escapes_everything_but_marks():
    assert render_snippet("a <b> & \x02ferry\x03 \"x\"") == 'a &lt;b&gt; &amp; <mark>ferry</mark> &quot;x&quot;'
    assert render_snippet(None) == ""


# the engines

def test_single_term(store):
    assert guids(store, "ferry") == ["ferry"]


def test_stemmed_term(store):
    assert guids(store, "crossing") == ["ferry"]


def test_two_terms_are_anded(store):
    assert guids(store, "harbour budget") == ["budget"]
    assert set(guids(store, "harbour")) == {"ferry", "budget"}


def test_title_match_ranks_first(store):
    hits = store.search("winter schedule")
    assert [store.get_article(h.article_id).guid for h in hits] == ["ferry"]
    assert guids(store, "council")[0] == "budget"
    assert hits[0].rank > 0


def test_phrase(store):
    assert guids(store, '"budget plan"') == ["budget"]
    assert guids(store, '"plan budget"') == []


def test_prefix(store):
    assert guids(store, "counc*") == ["budget"]
    assert guids(store, "festiv*") == ["festival"]


def test_author_name(store):
    assert guids(store, "Nakamura") == ["budget"]
    assert guids(store, "omar okafor") == ["budget"]


def test_accented_text(store):
    assert guids(store, "Bélanger") == ["ferry"]
    assert guids(store, "café") == ["festival"]


@pytest.mark.parametrize("query", [
    '"', '"""', "AND", "OR NOT", "ferry AND", "NEAR(ferry winter)", "ferry -winter", "title:ferry",
    "'; DROP TABLE articles; --", "ferry) OR (1=1", "^ferry", "f*rry*", "\\x00", "ferry & | ! <-> :*",
    "*", "!!!", "((((", "a" * 500, "\x02ferry\x03",
])
def test_hostile_queries_never_raise(store, query):
    hits = store.search(query)
    assert isinstance(hits, list)
    assert store.article_count() == 3


def test_empty_and_garbage_queries_return_nothing(store):
    for query in ("", "   ", "*** ;; ''", '""'):
        assert store.search(query) == []


def test_hit_fields_and_snippet(store):
    (hit,) = store.search("concerts")
    assert (hit.title, hit.url, hit.source_name, hit.authors, hit.published_at) == (
        "Arts festival unveils program", "http://example.test/festival", "The Gazette",
        ("Sven Lindqvist",), T0 - timedelta(hours=2))
    assert "<mark>concerts</mark>" in hit.snippet
    assert "&amp;" in hit.snippet
    # Tag-like text is escaped (SQLite) or dropped by ts_headline (PostgreSQL), never raw.
    bare = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare


def test_limit(store):
    assert len(store.search("harbour", limit=1)) == 1
    assert store.search("harbour", limit=0) == []


def test_index_follows_updates_and_deletes(store):
    source = store.list_sources()[0]
    changed = Entry(guid="ferry", url="http://example.test/ferry", title="Ferry service restored",
                    authors=("Chloé Bélanger",), published=T0, text="Crossings resume at dawn.")
    store.save_refresh(source.id, SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0), [changed])
    assert guids(store, "dawn") == ["ferry"]
    assert guids(store, "commuters") == []
    store.remove_source(source.id)
    assert store.search("harbour") == []


def test_prefix_expands_to_indexed_words_on_sqlite(sqlite_url):
    store = Store(sqlite_url)
    source = store.add_source("http://example.test/x")
    store.save_refresh(source.id, SourceUpdate(fetched_at=T0, status="ok", next_due_at=T0), [
        Entry(guid=g, url=None, title=t, content_html=t, text=t, snippet=t)
        for g, t in [("a", "Transport minister"), ("b", "Transponder fault"), ("c", "Transit plan")]])
    with store._read() as conn:
        (term,) = expand_prefixes(conn, parse_query("transpo*"))
    assert term.kind == "any" and set(term.words) == {"transport", "transpond"}
    assert sorted(guids(store, "transpo*")) == ["a", "b"]
    assert sorted(guids(store, "transpo* minister")) == ["a"]
