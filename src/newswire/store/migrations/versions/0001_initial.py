"""Initial schema: sources, articles, authors, categories, and full-text search.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, authors_text, text,
        content='articles', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, authors_text, text)
        VALUES (new.id, new.title, new.authors_text, new.text);
    END""",
    """CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, authors_text, text)
        VALUES ('delete', old.id, old.title, old.authors_text, old.text);
    END""",
    """CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, authors_text, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, authors_text, text)
        VALUES ('delete', old.id, old.title, old.authors_text, old.text);
        INSERT INTO articles_fts(rowid, title, authors_text, text)
        VALUES (new.id, new.title, new.authors_text, new.text);
    END""",
]

POSTGRES_FTS = [
    """ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(authors_text, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(text, '')), 'C')) STORED""",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feed_url", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("site_url", sa.Text),
        sa.Column("category", sa.Text),
        sa.Column("full_text", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
        sa.Column("poll_interval", sa.Integer, nullable=False, server_default="1800"),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_fetched_at", TS),
        sa.Column("last_status", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_due_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", TS),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("feed_url", name="uq_sources_feed_url"),
    )
    op.create_index("ix_sources_next_due_at", "sources", ["next_due_at"])

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("guid", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("authors_text", sa.Text, nullable=False, server_default=""),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("updated_at", TS),
        sa.Column("published_estimated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("content_html", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("snippet", sa.Text, nullable=False, server_default=""),
        sa.Column("language", sa.Text),
        sa.Column("enclosures", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("story_id", sa.Integer),
        sa.Column("duplicate_of", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE",
                                name="fk_articles_source_id_sources"),
        sa.UniqueConstraint("source_id", "guid", name="uq_articles_source_id_guid"),
    )
    op.create_index("ix_articles_published_at_id", "articles", ["published_at", "id"])
    op.create_index("ix_articles_source_id_published_at", "articles", ["source_id", "published_at"])

    op.create_table(
        "authors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_authors"),
        sa.UniqueConstraint("key", name="uq_authors_key"),
    )
    op.create_table(
        "article_authors",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "author_id", name="pk_article_authors"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE",
                                name="fk_article_authors_article_id_articles"),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], ondelete="CASCADE",
                                name="fk_article_authors_author_id_authors"),
    )
    op.create_index("ix_article_authors_author_id", "article_authors", ["author_id"])

    op.create_table(
        "categories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_categories"),
        sa.UniqueConstraint("name", name="uq_categories_name"),
    )
    op.create_table(
        "article_categories",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("category_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "category_id", name="pk_article_categories"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE",
                                name="fk_article_categories_article_id_articles"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="CASCADE",
                                name="fk_article_categories_category_id_categories"),
    )
    op.create_index("ix_article_categories_category_id", "article_categories", ["category_id"])

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts")
    for table in ("article_categories", "categories", "article_authors", "authors", "articles", "sources"):
        op.drop_table(table)
