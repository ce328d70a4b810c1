"""The organisation a byline credits beside its people ("By Ada Moreau, The Canadian Wire"):
kept out of the authors, so the agency is not listed as a person, and shown on the article page.

Revision ID: 0009
Revises: 0008

(0008 is another branch's; when both are merged, this one revises 0008.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: no table rebuild on either engine (SQLite keeps
    # the FTS triggers, PostgreSQL stores the default once), so it is instant at a million rows.
    op.add_column("articles", sa.Column("credit", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of ``articles`` would drop the FTS
    # triggers and, through ON DELETE CASCADE, every article's authors.
    op.execute("ALTER TABLE articles DROP COLUMN credit")
