"""Rendered feeds out, kept in the process for the next request that would render the same bytes.

    request ─► FeedHead (title, links, format) + the listing's stamps (one light query)
            ─► kept rendering with the same head and the same stamps? ─► its body, ETag, Last-Modified
            ─► else load the full articles, render, keep

A feed's body is a function of its head (format, title, description, links) and of its items;
the items are named by their stamps: id, source id and name, published, first-seen and updated
times, ``changed_at`` and content hash of each, in order (``Store.list_stamps``). A refresh that
changes what an item renders (its authors and categories with it) moves its hash and
``changed_at``, storing its page's text ``changed_at``; a new, purged or re-filtered article (a
copy found, a story merged) changes the ids, a renamed source its name. A kept rendering is
served only while all of them are what it was made from, compared for equality (not "newest
change": the clocks of several workers need not agree). Not covered: edits made to the
database behind the store's back.

One entry per head, least recently used out first, bounded by entries and by the bytes of the
bodies kept (a body larger than a quarter of that is not kept). Each ``serve --workers``
process keeps its own: the stamps are read from the database on every request, so a process
never serves what another one's write made stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Hashable

MAX_ENTRIES = 256
MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Rendered:
    """A feed's bytes and the validators that go with them."""

    body: bytes
    etag: str
    last_modified: datetime


class FeedCache:
    """Thread-safe: sync routes run in the server's thread pool."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Hashable, Rendered]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, head: Hashable, stamps: Hashable) -> Rendered | None:
        """The rendering kept for ``head`` if it was made from ``stamps``; else None (and an
        outdated one is dropped)."""
        with self._lock:
            kept = self._entries.get(head)
            if kept is not None and kept[0] == stamps:
                self._entries.move_to_end(head)
                self.hits += 1
                return kept[1]
            if kept is not None:
                self._drop(head)
            self.misses += 1
            return None

    def put(self, head: Hashable, stamps: Hashable, rendered: Rendered) -> None:
        size = len(rendered.body)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if head in self._entries:
                self._drop(head)
            self._entries[head] = (stamps, rendered)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _drop(self, head: Hashable) -> None:
        _, rendered = self._entries.pop(head)
        self._bytes -= len(rendered.body)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes of the bodies kept."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
