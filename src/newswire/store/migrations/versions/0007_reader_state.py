"""Each reader's own newswire: what they read and saved, and what they mute or follow.

Read state is a watermark plus exceptions, so "mark all as read" on a million articles writes
one row, not a million: an article is read for a reader when an explicit row in
``reader_articles`` says so, else when its id is at or below the reader's watermark
(``readers.read_up_to_id``, or the higher one of its source in ``reader_sources``). The index
on ``articles (source_id, id)`` lets unread counts seek straight past each source's watermark.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _user() -> sa.Column:
    return sa.Column("user_id", sa.Integer, nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "readers",
        _user(),
        sa.Column("read_up_to_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_seen_at", TS),
        sa.Column("seen_up_to_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("new_after_id", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("user_id", name="pk_readers"),
        _user_fk("readers"),
    )
    op.create_table(
        "reader_articles",
        _user(),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("read", sa.Boolean),
        sa.Column("saved_at", TS),
        sa.PrimaryKeyConstraint("user_id", "article_id", name="pk_reader_articles"),
        _user_fk("reader_articles"),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_reader_articles_article_id_articles",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_reader_articles_article_id", "reader_articles", ["article_id"])
    op.create_table(
        "reader_sources",
        _user(),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("read_up_to_id", sa.Integer, nullable=False, server_default="0"),
        sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("followed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("user_id", "source_id", name="pk_reader_sources"),
        _user_fk("reader_sources"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name="fk_reader_sources_source_id_sources",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_reader_sources_source_id", "reader_sources", ["source_id"])
    op.create_table(
        "reader_authors",
        _user(),
        sa.Column("author_id", sa.Integer, nullable=False),
        sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("followed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("user_id", "author_id", name="pk_reader_authors"),
        _user_fk("reader_authors"),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name="fk_reader_authors_author_id_authors",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_reader_authors_author_id", "reader_authors", ["author_id"])
    op.create_table(
        "reader_stories",
        _user(),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "story_id", name="pk_reader_stories"),
        _user_fk("reader_stories"),
    )
    op.create_index("ix_articles_source_id_id", "articles", ["source_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_articles_source_id_id", "articles")
    for table in ("reader_stories", "reader_authors", "reader_sources", "reader_articles", "readers"):
        op.drop_table(table)
