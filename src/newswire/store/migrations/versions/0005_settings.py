"""A small key-value table for what the server itself must remember across restarts and share
between ``serve`` nodes: the media proxy's signing key, first of all.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_values",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_server_values"),
    )


def downgrade() -> None:
    op.drop_table("server_values")
