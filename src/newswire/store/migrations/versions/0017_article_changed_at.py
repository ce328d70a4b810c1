"""When an article's stored content last changed: ``articles.changed_at``.

The feeds out's Last-Modified was the latest of their items' first-seen and ``updated_at``
times. ``updated_at`` is the feed's own claim, shown to readers, and extracting an article's
page changes what a feed out serves for it without touching either: a client asking
If-Modified-Since got 304 for a feed whose entries had gained their full text. ``changed_at``
is the store's own clock for it, set when a refresh updates the article and when its page text
is saved; None until then (and for every article stored before this revision: its first-seen
and updated times still stand for it).

A plain ADD COLUMN without a default: no table rebuild on either engine, instant at a million
rows, and SQLite's FTS triggers are kept.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("changed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of ``articles`` would drop the FTS
    # triggers and, through ON DELETE CASCADE, every article's authors.
    op.execute("ALTER TABLE articles DROP COLUMN changed_at")
