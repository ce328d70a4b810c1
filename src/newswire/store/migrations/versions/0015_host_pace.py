"""The last request start to each host, shared by every fetching process, so that requests to
one host are spaced by NEWSWIRE_HOST_INTERVAL across workers (store/host_gate.py).

UNLOGGED on PostgreSQL: a row is worth a few seconds, so it is not worth a WAL flush on every
request, and losing the table in a crash loses nothing. SQLite gets the table for one schema on
both engines, and leaves it empty: its processes pace through a file beside the database.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "host_pace",
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("last_start", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_host_pace"),
        prefixes=unlogged,
    )


def downgrade() -> None:
    op.drop_table("host_pace")
