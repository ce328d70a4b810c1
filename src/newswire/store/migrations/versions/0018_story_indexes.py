"""Story writes that read an index, not the archive.

- ``ix_articles_story_id`` (story_id) becomes ``ix_articles_story_id_published_at`` (story_id,
  published_at, source_id). Every batch the story step writes recomputes the stats of each
  story it touched (count, distinct sources, first and latest publication) from its articles:
  with the story id alone indexed, that read every article row of a story, whose text makes it
  a dozen pages, once per batch; now the index holds all the query reads. A story's page lists
  its articles by publication time along the same index.
- ``ix_stories_merged_into``: a merge points the stories already merged into the old one at
  the new one (``merged_into = old``), which scanned the whole stories table, once per merge.

Building the index reads every article once: seconds for a million.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_story_id_published_at", "articles", ["story_id", "published_at", "source_id"])
    op.drop_index("ix_articles_story_id", "articles")
    op.create_index("ix_stories_merged_into", "stories", ["merged_into"])


def downgrade() -> None:
    op.drop_index("ix_stories_merged_into", "stories")
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.drop_index("ix_articles_story_id_published_at", "articles")
