"""SQLite: a view of the full-text index's terms, so prefix queries can be expanded into the
words they stand for (FTS5 re-reads a prefix's whole doclist for every snippet otherwise).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE articles_fts_terms USING fts5vocab(articles_fts, 'row')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS articles_fts_terms")
