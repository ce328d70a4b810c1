"""Texts prepared for the enrichment steps in the parse workers.

    parse worker:  prepare_entries(entries) ─► {text_key(text): PreparedText(copy, lead)}
    writer:        a batch's prepared texts go with its ids to the steps that take them
                   (``takes_prepared``), which find each article's by the text they read back

Splitting, hashing and tokenising an article's text is about half of copy detection and a third
of story clustering. In a parse worker it costs the writer's process, where the event loop, the
writes and the enrichment share one GIL, nothing. A text that comes back changed in any way
simply misses, and is prepared where it is read.

``newswire run`` and ``worker --enrich`` enrich by following the articles table (every process's
articles), not after their own writes: their writer puts its batches' prepared texts in a
``Handoff`` before it writes them, and the follower finds its own process's articles there.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Callable, Sequence

from newswire.enrich.dedupe import CopyText, prepare_copy_text
from newswire.enrich.stories import lead_of
from newswire.enrich.story_text import LeadText
from newswire.models import Entry
from newswire.store.search import strip_markers


@dataclass(frozen=True, slots=True)
class PreparedText:
    copy: CopyText  # for copy detection (``CopyDetector.index``'s ``prepared``)
    lead: LeadText  # for story clustering (``StoryClusterer.add``'s ``prepared``)


def stored_text(entry: Entry) -> str:
    """The text the steps will read back for an entry once stored: its text as the store keeps
    it (without snippet markers), else its summary."""
    return strip_markers(entry.text) or entry.summary


def text_key(text: str) -> bytes:
    """A text's digest: what a prepared text is found by, so that a batch waiting for its
    enrichment does not also hold every article's text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def prepare_text(text: str) -> PreparedText:
    return PreparedText(prepare_copy_text(text, ahead=True), LeadText.of(lead_of(text)))


def prepare_entries(entries: Sequence[Entry]) -> dict[bytes, PreparedText]:
    """Each entry's text prepared for the steps, by ``text_key``."""
    return {text_key(text): prepare_text(text) for text in map(stored_text, entries) if text}


HANDOFF_TEXTS = 1000  # prepared texts a Handoff keeps: about 12 KB each for a 5 KB article (12 MB)


class Handoff(Mapping[bytes, PreparedText]):
    """Prepared texts passed from a process's writer to its follower (``worker.follow_and_enrich``),
    the newest ``capacity`` of them: a follower that falls further behind (a first fetch of
    hundreds of feeds) prepares the rest itself, as it did before, and memory stays bounded.
    The writer thread puts, the follower's thread reads: a lock keeps them apart. ``on_stored``
    callbacks run when the writer says it ``stored`` a batch (the follower wakes up instead of
    waiting for its next poll); while none is registered, nothing is kept."""

    def __init__(self, capacity: int = HANDOFF_TEXTS):
        self._texts: OrderedDict[bytes, PreparedText] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    @property
    def wanted(self) -> bool:
        """Whether a follower listens: a ``run`` waiting for another process's enricher lock
        prepares and keeps nothing."""
        return bool(self._listeners)

    def put(self, texts: Mapping[bytes, PreparedText]) -> None:
        """Keep ``texts`` (the writer puts them before it writes their articles)."""
        if not texts or not self._listeners:
            return
        with self._lock:
            self._texts.update(texts)
            while len(self._texts) > self._capacity:
                self._texts.popitem(last=False)

    def stored(self) -> None:
        """Tell the listeners that a write committed (after it: a follower woken before the
        commit would find nothing, and wait for its next poll)."""
        for listener in list(self._listeners):
            listener()

    def on_stored(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each write; returns what stops it (and forgets the texts kept)."""
        self._listeners.append(listener)

        def stop() -> None:
            self._listeners.remove(listener)
            if not self._listeners:
                with self._lock:
                    self._texts.clear()
        return stop

    def __getitem__(self, key: bytes) -> PreparedText:
        with self._lock:
            return self._texts[key]

    def __iter__(self) -> Iterator[bytes]:
        with self._lock:
            return iter(list(self._texts))

    def __len__(self) -> int:
        return len(self._texts)
