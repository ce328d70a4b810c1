"""Search the text extracted from articles' pages: a teaser article is found by the words of its
full text, not only by its feed's first sentence.

SQLite: the FTS5 index gains a fourth column, ``page_text``, filled by the same triggers as the
others (so an article is searchable in the transaction that stores it, and re-indexed in the one
that saves its page). PostgreSQL: ``search_vector`` gains the page text with weight D.

Only the first ``PAGE_INDEX_CHARS`` characters of a page are indexed. A news article is a few
thousand characters; a page can be a whole book (the extractor keeps all of it for reading), and
every indexed word lengthens the doclists that every search walks, and a tsvector cannot exceed
1 MB. The triggers hand FTS5 the same prefix on insert and on delete, as an external-content
index requires.

Both rebuild the search index of every stored article: minutes for millions of articles.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PAGE_INDEX_CHARS = 20_000  # the same figure as newswire.store.search.PAGE_INDEX_CHARS

_PAGE = f"substr({{row}}.page_text, 1, {PAGE_INDEX_CHARS})"


def _sqlite_fts(with_page: bool) -> list[str]:
    columns = "title, authors_text, text" + (", page_text" if with_page else "")

    def values(row: str) -> str:
        return f"{row}.title, {row}.authors_text, {row}.text" + (", " + _PAGE.format(row=row) if with_page else "")

    watched = "title, authors_text, text" + (", page_text" if with_page else "")
    return [
        "DROP TABLE IF EXISTS articles_fts_terms",
        "DROP TRIGGER IF EXISTS articles_fts_ai",
        "DROP TRIGGER IF EXISTS articles_fts_ad",
        "DROP TRIGGER IF EXISTS articles_fts_au",
        "DROP TABLE IF EXISTS articles_fts",
        f"""CREATE VIRTUAL TABLE articles_fts USING fts5(
            {columns},
            content='articles', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2')""",
        f"""CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, {columns}) VALUES (new.id, {values('new')});
        END""",
        f"""CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {columns}) VALUES ('delete', old.id, {values('old')});
        END""",
        f"""CREATE TRIGGER articles_fts_au AFTER UPDATE OF {watched} ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, {columns}) VALUES ('delete', old.id, {values('old')});
            INSERT INTO articles_fts(rowid, {columns}) VALUES (new.id, {values('new')});
        END""",
        # not 'rebuild': it would read whole pages from the content table, not their prefix
        f"INSERT INTO articles_fts(rowid, {columns}) SELECT id, {values('articles')} FROM articles",
        "CREATE VIRTUAL TABLE articles_fts_terms USING fts5vocab(articles_fts, 'row')",
    ]


def _postgres_fts(with_page: bool) -> list[str]:
    page = (" || setweight(to_tsvector('english'::regconfig, "
            f"left(coalesce(page_text, ''), {PAGE_INDEX_CHARS})), 'D')") if with_page else ""
    return [
        "DROP INDEX IF EXISTS ix_articles_search_vector",
        "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
        f"""ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english'::regconfig, coalesce(authors_text, '')), 'B') ||
            setweight(to_tsvector('english'::regconfig, coalesce(text, '')), 'C'){page}) STORED""",
        "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
    ]


def _apply(with_page: bool) -> None:
    dialect = op.get_bind().dialect.name
    for statement in _sqlite_fts(with_page) if dialect == "sqlite" else _postgres_fts(with_page):
        op.execute(statement)


def upgrade() -> None:
    _apply(with_page=True)


def downgrade() -> None:
    _apply(with_page=False)
