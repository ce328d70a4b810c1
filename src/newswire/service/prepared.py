"""Texts prepared for the enrichment steps in the parse workers.

    parse worker:  prepare_entries(entries) ─► {text_key(text): PreparedText(copy, lead)}
    writer:        a batch's prepared texts go with its ids to the steps that take them
                   (``takes_prepared``), which find each article's by the text they read back

Splitting, hashing and tokenising an article's text is about half of copy detection and a third
of story clustering. In a parse worker it costs the writer's process, where the event loop, the
writes and the enrichment share one GIL, nothing. A text that comes back changed in any way
simply misses, and is prepared where it is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

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
    return PreparedText(prepare_copy_text(text), LeadText.of(lead_of(text)))


def prepare_entries(entries: Sequence[Entry]) -> dict[bytes, PreparedText]:
    """Each entry's text prepared for the steps, by ``text_key``."""
    return {text_key(text): prepare_text(text) for text in map(stored_text, entries) if text}
