"""The starter list: an OPML shipped in the package with the public feeds of major Canadian
publishers (names and feed URLs only), for a real wire within a minute of the first start.

``newswire import-opml --starter`` follows it; the empty home page offers it.
"""

from __future__ import annotations

from importlib import resources

from newswire.sources.opml import OpmlFeed, read_opml


def starter_opml_bytes() -> bytes:
    """The starter OPML document as shipped (``newswire/starter.opml``)."""
    return resources.files("newswire").joinpath("starter.opml").read_bytes()


def starter_feeds() -> list[OpmlFeed]:
    """The starter list's feeds, in document order, with categories such as "Canada/Québec"."""
    return read_opml(starter_opml_bytes())
