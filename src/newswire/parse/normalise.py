"""The pure helpers other stages reuse, in one import place.

Each lives in a small module of its own (``urls``, ``authors``, ``dates``, ``html``); this module
only gathers them so callers need not know the layout.
"""

from __future__ import annotations

from newswire.parse.authors import dedupe_authors, normalise_author_name, split_authors
from newswire.parse.dates import parse_date
from newswire.parse.html import html_to_text, make_snippet, sanitize_html, text_line, text_to_html
from newswire.parse.urls import TRACKING_PARAMS, canonical_url, resolve_url

__all__ = [
    "TRACKING_PARAMS", "canonical_url", "dedupe_authors", "html_to_text", "make_snippet",
    "normalise_author_name", "parse_date", "resolve_url", "sanitize_html", "split_authors",
    "text_line", "text_to_html",
]
