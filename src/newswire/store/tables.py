"""The schema as SQLAlchemy Core tables: the one description queries are written against.

The migration in ``migrations/versions`` creates the same tables (a test compares them). Two
engine-specific pieces live only in the migration, because Core cannot describe them portably:
the SQLite FTS5 index ``articles_fts`` with its triggers, and the PostgreSQL generated
``articles.search_vector`` column with its GIN index (see ``search.py``; migration 0016 added the
page text to both).
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

MAX_ID = 2**31 - 1  # ids are sa.Integer: 32-bit on PostgreSQL, so no larger id names a row


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out on every engine.

    PostgreSQL keeps them in ``timestamptz``; SQLite stores naive UTC text, whose fixed format
    sorts chronologically. A naive datetime is refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"store: naive datetime {value!r}; times must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


sources = sa.Table(
    "sources", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_url", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("site_url", sa.Text),
    sa.Column("category", sa.Text),
    sa.Column("full_text", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
    sa.Column("poll_interval", sa.Integer, nullable=False, server_default="1800"),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_fetched_at", UTCDateTime),
    sa.Column("last_status", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_due_at", UTCDateTime, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Job lease for the PostgreSQL fetch workers (SELECT … FOR UPDATE SKIP LOCKED).
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("merge_stories", sa.Boolean, nullable=False, server_default=sa.true()),
)

articles = sa.Table(
    "articles", metadata,
    # Integer, not BigInteger: on SQLite only INTEGER PRIMARY KEY is the rowid FTS5 points at.
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("guid", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("authors_text", sa.Text, nullable=False, server_default=""),
    sa.Column("credit", sa.Text, nullable=False, server_default=""),  # the byline's organisation
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("published_estimated", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("content_html", sa.Text, nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("snippet", sa.Text, nullable=False, server_default=""),
    sa.Column("language", sa.Text),
    sa.Column("enclosures", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(32), nullable=False),
    # Enrichment: the story it belongs to, the earlier copy it repeats, its page's full text.
    sa.Column("story_id", sa.Integer),
    sa.Column("duplicate_of", sa.Integer, index=True),
    sa.Column("page_html", sa.Text),
    sa.Column("page_text", sa.Text),
    sa.Column("extraction_status", sa.Text),  # None: not wanted; "pending", "done", "failed"
    sa.Column("extraction_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("extraction_error", sa.Text),
    sa.Column("extraction_due_at", UTCDateTime, index=True),
    sa.Column("changed_at", UTCDateTime),  # the store's clock: its stored content last changed (0017)
    sa.UniqueConstraint("source_id", "guid"),
    sa.Index("ix_articles_published_at_id", "published_at", "id"),
    # id too: a source's page is ordered by (published_at, id), and PostgreSQL, unlike SQLite,
    # does not carry the row's id in every index entry (without it: an incremental sort).
    sa.Index("ix_articles_source_id_published_at_id", "source_id", "published_at", "id"),
    # a story's articles by time, and all its stats read (``stories.refresh_many``) in the index
    sa.Index("ix_articles_story_id_published_at", "story_id", "published_at", "source_id"),
)

# Not a syndicated copy. The unary plus keeps SQLite off the duplicate_of index: without statistics
# it takes IS NULL for a selective lookup, then sorts every original to find the newest page.
ORIGINALS = sa.literal_column("+articles.duplicate_of").is_(None)

stories = sa.Table(
    "stories", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_updated_at", UTCDateTime, nullable=False, index=True),
    sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("source_count", sa.Integer, nullable=False, server_default="0"),
    # set when clustering found this story to be part of another: old links redirect there
    sa.Column("merged_into", sa.Integer, nullable=True, index=True),
)

authors = sa.Table(
    "authors", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False, unique=True),
)

article_authors = sa.Table(
    "article_authors", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("authors.id", ondelete="CASCADE"), primary_key=True,
              index=True),
    sa.Column("position", sa.Integer, nullable=False),
)

categories = sa.Table(
    "categories", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
)

article_categories = sa.Table(
    "article_categories", metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)

# What the server remembers about itself (the media proxy's signing key): one row per key.
server_values = sa.Table(
    "server_values", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Accounts (migration 0006). ``name_key`` is the casefolded name: one account per spelling.
# ``fever_key`` is md5("name:password"), the Fever API's login, kept because that protocol asks
# for nothing else. Sessions and API tokens are stored as SHA-256 hashes of the random token.
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("name_key", sa.Text, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("fever_key", sa.String(32), index=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_changed_at", UTCDateTime, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("label", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)

# Failed sign-ins, one row each, keyed "name:<key>" or "address:<ip>": what throttling counts.
login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("failed_at", UTCDateTime, nullable=False),
    sa.Index("ix_login_failures_key_failed_at", "key", "failed_at"),
)

# Each reader's own newswire (store/reader_state.py). An article is read for a reader when its
# row in reader_articles says so (``read`` not NULL), else when its id is at or below the
# reader's watermark: the higher of readers.read_up_to_id and its source's read_up_to_id.

readers = sa.Table(
    "readers", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("read_up_to_id", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_seen_at", UTCDateTime),  # the last wire page this reader loaded
    sa.Column("seen_up_to_id", sa.Integer, nullable=False, server_default="0"),  # newest id then
    sa.Column("new_after_id", sa.Integer, nullable=False, server_default="0"),  # newest id at the previous visit
    sa.Column("state_version", sa.Integer, nullable=False, server_default="0"),  # raised by every read mark
)

reader_articles = sa.Table(
    "reader_articles", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
              index=True),
    sa.Column("read", sa.Boolean),  # NULL: as the watermark says
    sa.Column("saved_at", UTCDateTime),  # NULL: not saved
)

reader_sources = sa.Table(
    "reader_sources", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True,
              index=True),
    sa.Column("read_up_to_id", sa.Integer, nullable=False, server_default="0"),
    sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("followed", sa.Boolean, nullable=False, server_default=sa.false()),
)

reader_authors = sa.Table(
    "reader_authors", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("authors.id", ondelete="CASCADE"), primary_key=True,
              index=True),
    sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("followed", sa.Boolean, nullable=False, server_default=sa.false()),
)

reader_stories = sa.Table(  # followed stories; no foreign key: stories are rebuilt by clustering
    "reader_stories", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("story_id", sa.Integer, primary_key=True),
)

# Unread counts seek past each source's watermark (source_id = ? AND id > ?).
sa.Index("ix_articles_source_id_id", articles.c.source_id, articles.c.id)
# "Mark all as read up to a time" (sync apps send one) finds the first article first seen after it.
sa.Index("ix_articles_first_seen_at", articles.c.first_seen_at)

# Each fetching process's cumulative fetch counters (``metrics.Snapshot`` as JSON), written by
# the process every few seconds and summed by ``/metrics`` (store/process_metrics.py).
process_metrics = sa.Table(
    "process_metrics", metadata,
    sa.Column("owner", sa.Text, primary_key=True),  # host:pid, or "retired" for folded rows
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("counters", sa.Text, nullable=False),
)


# The last start of a request to each host, on the database server's clock (epoch seconds), so
# that every fetching process spaces its requests to one host by NEWSWIRE_HOST_INTERVAL
# (store/host_gate.py). Used on PostgreSQL, where it is UNLOGGED; SQLite keeps these starts in a
# file beside the database instead, out of its one writer's way, and leaves this table empty.
host_pace = sa.Table(
    "host_pace", metadata,
    sa.Column("host", sa.Text, primary_key=True),
    sa.Column("last_start", sa.Float(precision=53), nullable=False),
)
