"""Author keys in NFKC: "José" composed and decomposed were two authors. Recompute every key
and merge the authors that now share one (their articles keep every byline, once).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    # Frozen here on purpose: a migration must not change when the application's function does.
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, name, key FROM authors ORDER BY id")).all()
    keep: dict[str, int] = {}
    merges: list[tuple[int, int]] = []  # (merged away, kept)
    rekeys: list[tuple[int, str]] = []
    for id_, _name, key in rows:
        new = _key(key)
        if new in keep:
            merges.append((id_, keep[new]))
        else:
            keep[new] = id_
            if new != key:
                rekeys.append((id_, new))
    for gone, kept in merges:
        # An article bylined by both spellings keeps the kept author once.
        conn.execute(sa.text("DELETE FROM article_authors WHERE author_id = :gone AND article_id IN "
                             "(SELECT article_id FROM article_authors WHERE author_id = :kept)"),
                     {"gone": gone, "kept": kept})
        conn.execute(sa.text("UPDATE article_authors SET author_id = :kept WHERE author_id = :gone"),
                     {"gone": gone, "kept": kept})
        conn.execute(sa.text("DELETE FROM authors WHERE id = :gone"), {"gone": gone})
    for id_, new in rekeys:
        conn.execute(sa.text("UPDATE authors SET key = :key WHERE id = :id"), {"key": new, "id": id_})


def downgrade() -> None:
    pass  # the merged spellings cannot be told apart again; the keys stay NFKC
