"""Categories as pages show them: a source's category is a path (``News/Canada``, from an OPML
file's nesting or the admin's form), and a category holds its own sources and those of the
categories below it, as ``Store.list_articles(category=)`` lists them.

Only the sources table is read (``Store.source_categories``, one light query), so the wire can
offer its category filter on every page.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable
from urllib.parse import quote

from newswire.errors import NotFound


def category_or_none(value: str | None) -> str | None:
    """A category path as stored (``News/Canada``: no spaces or slashes around it), None when
    blank; the admin's forms, the API and the wire's filter all read it the same way."""
    return (value or "").strip().strip("/").strip() or None


def is_under(category: str | None, wanted: str) -> bool:
    """Whether a source in ``category`` belongs to ``wanted`` (itself or a category below it)."""
    return category is not None and (category == wanted or category.startswith(wanted + "/"))


def known_category(categories: Iterable[str | None], name: str | None) -> str | None:
    """The category ``name`` asks for, as stored (``category_or_none``), None when it asks for
    none; NotFound (404 on every path) when no source is in it or below it."""
    category = category_or_none(name)
    if category is not None and not any(is_under(c, category) for c in categories):
        raise NotFound(f"No source is in the category “{category}”.")
    return category


def category_counts(categories: Iterable[str | None]) -> list[tuple[str, int]]:
    """(category, sources in it or below it), every category and each of its parents, in
    alphabetical order: what a filter offers."""
    counts: Counter[str] = Counter()
    for category in categories:
        if not category:
            continue
        parts = category.split("/")
        for depth in range(1, len(parts) + 1):
            counts["/".join(parts[:depth])] += 1
    return sorted(counts.items(), key=lambda pair: pair[0].lower())


def category_path(category: str) -> str:
    """The category's page: ``/categories/News/Canada`` (each part quoted, the slashes kept)."""
    return "/categories/" + "/".join(quote(part, safe="") for part in category.split("/"))
