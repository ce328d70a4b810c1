"""``Store``'s methods for each reader's own newswire (SQL in ``reader_state.py``).

Kept beside ``store.py`` rather than in it so the reader's state reads as one piece; ``Store``
inherits them. Like every ``Store`` method, each opens one transaction, and database failures
leave as ``StorageError``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy.engine import Connection

from newswire.errors import NotFound

from . import reader_state
from .reader_counts import UnreadCounter
from .reader_state import ReaderPrefs, Scope, Stream


class ReaderStateMethods:
    """Read/unread, saved, mute/follow and visits, per user (a ``users.id``)."""

    _unread_counter: UnreadCounter  # made by Store.__init__

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def mark_read(self, user_id: int, article_ids: Sequence[int], read: bool = True) -> None:
        """Mark articles read (or unread again); ids that do not exist are ignored. Raises
        StorageError."""
        with self._write() as conn:
            reader_state.mark_read(conn, user_id, article_ids, read)

    def set_saved(self, user_id: int, article_ids: Sequence[int], saved: bool = True) -> None:
        """Save (star) or unsave articles; ids that do not exist are ignored. Saving a saved
        article keeps its first saving time. Raises StorageError."""
        with self._write() as conn:
            reader_state.set_saved(conn, user_id, article_ids, _now() if saved else None)

    def article_states(self, user_id: int, article_ids: Sequence[int]) -> dict[int, tuple[bool, bool]]:
        """Article id → (read, saved) for the ids that exist. Raises StorageError."""
        with self._read() as conn:
            return reader_state.article_states(conn, user_id, article_ids)

    def mark_all_read(self, user_id: int, *, source_id: int | None = None, category: str | None = None,
                      author: str | None = None, story_id: int | None = None, query: str | None = None,
                      up_to: datetime | None = None, up_to_id: int | None = None) -> None:
        """Everything matching (all filters together; none: the whole wire), first seen at or
        before ``up_to`` and with id ≤ ``up_to_id`` when given, becomes read. The wire, a
        source or a category cost one row whatever they hold (a watermark). Raises
        StorageError."""
        scope = Scope(source_id=source_id, category=category, author=author, story_id=story_id, query=query)
        with self._write() as conn:
            reader_state.mark_all_read(conn, user_id, scope, up_to, up_to_id)

    def unread_counts(self, user_id: int) -> dict[int, int]:
        """Source id → unread articles (syndicated copies included); sources with none unread
        are left out. Kept between calls and brought up to date (``reader_counts``). Raises
        StorageError."""
        with self._read() as conn:
            return self._unread_counter.counts(conn, user_id)  # a copy, with only sources that have unread

    def unread_ids(self, user_id: int, *, limit: int = 50_000) -> list[int]:
        """Unread article ids, newest first (by arrival). Raises StorageError."""
        with self._read() as conn:
            return reader_state.unread_ids(conn, user_id, limit)

    def saved_ids(self, user_id: int, *, limit: int = 50_000) -> list[int]:
        """Saved article ids, newest first (by arrival). Raises StorageError."""
        with self._read() as conn:
            return reader_state.saved_ids(conn, user_id, limit)

    def items_for_sync(self, user_id: int, *, source_id: int | None = None, category: str | None = None,
                       saved_only: bool = False, unread_only: bool = False, read_only: bool = False,
                       newer_than: datetime | None = None, older_than: datetime | None = None,
                       oldest_first: bool = False, after_id: int | None = None,
                       before_cursor: str | None = None, limit: int = 20) -> tuple[list[int], str | None]:
        """Article ids of a stream (copies included), newest published first (``oldest_first``:
        oldest), ``limit`` at most (1000), and the cursor that continues it (None at the end).
        ``newer_than``/``older_than`` are strict bounds on the publication time; ``after_id``
        keeps ids above it; ``category`` includes its sub-categories. Raises ValueError for a
        malformed cursor, StorageError."""
        stream = Stream(source_id=source_id, category=category, saved_only=saved_only, unread_only=unread_only,
                        read_only=read_only, newer_than=newer_than, older_than=older_than,
                        oldest_first=oldest_first, after_id=after_id, before_cursor=before_cursor, limit=limit)
        with self._read() as conn:
            return reader_state.items_for_sync(conn, user_id, stream)

    # preferences

    def set_source_pref(self, user_id: int, source_id: int, *, muted: bool | None = None,
                        followed: bool | None = None) -> None:
        """Mute or follow a source for this reader only (None: leave as is). Raises NotFound
        for an unknown source, StorageError."""
        values = {k: v for k, v in (("muted", muted), ("followed", followed)) if v is not None}
        with self._write() as conn:
            if not reader_state.source_exists(conn, source_id):
                raise NotFound(f"store: no source {source_id}")
            if values:
                reader_state.set_source_pref(conn, user_id, source_id, values)

    def set_author_pref(self, user_id: int, author: str, *, muted: bool | None = None,
                        followed: bool | None = None) -> None:
        """Mute or follow an author (any spelling of the name) for this reader only. Raises
        NotFound for an author no article has, StorageError."""
        values = {k: v for k, v in (("muted", muted), ("followed", followed)) if v is not None}
        with self._write() as conn:
            found = reader_state.author_id(conn, author)
            if found is None:
                raise NotFound(f"store: no author {author[:80]!r}")
            if values:
                reader_state.set_author_pref(conn, user_id, found, values)

    def set_story_followed(self, user_id: int, story_id: int, followed: bool = True) -> None:
        """Follow a story, or stop. Raises StorageError."""
        with self._write() as conn:
            reader_state.set_story_followed(conn, user_id, story_id, followed)

    def reader_prefs(self, user_id: int) -> ReaderPrefs:
        """What the reader mutes and follows. Raises StorageError."""
        with self._read() as conn:
            return reader_state.prefs(conn, user_id)

    def record_visit(self, user_id: int, now: datetime) -> int:
        """Note a wire page loaded at ``now``; the id above which articles are new since the
        reader's previous visit (see ``reader_state.visit``); a write at most once a minute.
        Raises StorageError."""
        with self._read() as conn:
            new_after, note = reader_state.visit(conn, user_id, now)
        if note:
            with self._write() as conn:
                reader_state.note_visit(conn, user_id, now, new_after)
        return new_after


def _now() -> datetime:
    return datetime.now(timezone.utc)
