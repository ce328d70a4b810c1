"""Find a site's feeds from its HTML page: ``<link rel="alternate">`` with a feed type."""

from __future__ import annotations

from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html

FEED_TYPES = {
    "application/rss+xml", "application/atom+xml", "application/feed+json",
    "application/json", "application/rdf+xml", "application/xml", "text/xml",
}


def find_feed_links(page: bytes, base_url: str) -> list[str]:
    """Feed URLs a page advertises, in page order, resolved against ``<base href>`` and
    ``base_url``. An unreadable page has none."""
    try:
        doc = lxml_html.document_fromstring(page)
    except (etree.ParserError, ValueError):  # empty or undecodable page
        return []
    base = base_url
    for el in doc.iter("base"):
        if el.get("href"):
            base = urljoin(base_url, el.get("href").strip())
            break
    found: list[str] = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(base, href)
            if url not in found:
                found.append(url)
    return found
