"""A version number on each reader's state, raised by every change that can change what is read.

Unread counts are asked for many times a minute by every reader app; a process keeps each
reader's last counts and reuses them while this version and the articles' removal stamp are
unchanged, adding only the articles that arrived since (``reader_counts``).

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.add_column(sa.Column("state_version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("readers") as batch:
        batch.drop_column("state_version")
