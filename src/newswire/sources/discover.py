"""Find a site's feeds from its HTML page: ``<link rel="alternate">`` with a feed type.

The page is written by whoever owns the site, so what it advertises is bounded before anything
is fetched: only http(s) links, at most ``MAX_CANDIDATES`` of them, best first — links on the
page's own host before others, and the feed types (RSS, Atom, JSON Feed) before generic XML or
JSON — each group in page order. A page with 500 feed links costs at most ten requests.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

MAX_CANDIDATES = 10
FEED_TYPES = {
    "application/rss+xml", "application/atom+xml", "application/feed+json",
    "application/json", "application/rdf+xml", "application/xml", "text/xml",
}
# Feed types proper; the rest of FEED_TYPES are generic formats a feed may also be served as.
TYPED = {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml"}


def find_feed_links(page: bytes, base_url: str, *, limit: int = MAX_CANDIDATES) -> list[str]:
    """At most ``limit`` feed URLs a page advertises, best first (see the module docstring),
    resolved against ``<base href>`` and ``base_url``. An unreadable page has none."""
    try:
        doc = lxml_html.document_fromstring(page)
    except (etree.ParserError, ValueError):  # empty or undecodable page
        return []
    base = base_url
    for el in doc.iter("base"):
        if el.get("href"):
            base = urljoin(base_url, el.get("href").strip())
            break
    found: dict[str, tuple[bool, bool]] = {}  # url → (other host, generic type), page order
    page_host = _host(base_url)
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or kind not in FEED_TYPES or not href:
            continue
        try:
            url = urljoin(base, href)
            host = _host(url)
        except ValueError:  # a malformed URL (bad port, bad IPv6 literal)
            continue
        if urlsplit(url).scheme in ("http", "https") and host and url not in found:
            found[url] = (host != page_host, kind not in TYPED)
    ranked = sorted(found, key=found.__getitem__)  # stable: page order within each rank
    return ranked[:limit]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")
