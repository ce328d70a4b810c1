"""Each fetching process's fetch counters, so that ``/metrics`` of any web node describes the
whole deployment: ``newswire worker`` processes write their cumulative counters to a row of
their own every few seconds, and ``/metrics`` adds the rows up.

Revision ID: 0014
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_metrics",
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counters", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_process_metrics"),
    )


def downgrade() -> None:
    op.drop_table("process_metrics")
