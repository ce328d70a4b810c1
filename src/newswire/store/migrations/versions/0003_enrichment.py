"""Enrichment: the full text fetched from an article's page, stories, and a per-source switch
for story merging.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("page_html", sa.Text))
        batch.add_column(sa.Column("page_text", sa.Text))
        batch.add_column(sa.Column("extraction_status", sa.Text))
        batch.add_column(sa.Column("extraction_attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("extraction_error", sa.Text))
        batch.add_column(sa.Column("extraction_due_at", TS))
    op.create_index("ix_articles_extraction_due_at", "articles", ["extraction_due_at"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_index("ix_articles_duplicate_of", "articles", ["duplicate_of"])
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("merge_stories", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_updated_at", TS, nullable=False),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source_count", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_last_updated_at", "stories", ["last_updated_at"])


def downgrade() -> None:
    op.drop_index("ix_stories_last_updated_at", "stories")
    op.drop_table("stories")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("merge_stories")
    op.drop_index("ix_articles_duplicate_of", "articles")
    op.drop_index("ix_articles_story_id", "articles")
    op.drop_index("ix_articles_extraction_due_at", "articles")
    with op.batch_alter_table("articles") as batch:
        for column in ("extraction_due_at", "extraction_error", "extraction_attempts", "extraction_status",
                       "page_text", "page_html"):
            batch.drop_column(column)
