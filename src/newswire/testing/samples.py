"""Fictional outlets and articles, generated in code, and rendered as RSS 2.0, Atom 1.0 or JSON
Feed 1.1.

Tests, benchmarks and the demo share this generator so that no real publisher's text ever sits
in the repository. Output is deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape

TOWNS = ["Maple Harbour", "Port Alder", "Cedar Falls", "North Bramble", "Lake Ossin", "Granite Bay",
         "Fernwick", "Stoneridge", "Willow Creek", "Eastmere", "Juniper Point", "Red Rock"]
OUTLET_KINDS = ["Gazette", "Chronicle", "Herald", "Courier", "Tribune", "Sentinel", "Observer", "Post"]
FIRST = ["Ada", "Bruno", "Chloé", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ines", "Jonah", "Kiri",
         "Liam", "Maëlle", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Viktor"]
LAST = ["Abernathy", "Bélanger", "Castellano", "Dunmore", "Eriksen", "Fairweather", "Gagnon",
        "Hollis", "Iqbal", "Jovanovic", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okafor",
        "Pemberton", "Quesnel", "Rasmussen", "Tremblay", "Underhill", "Vasquez", "Whitlock"]
SUBJECTS = ["council", "transit board", "school district", "harbour authority", "hospital",
            "library", "fire service", "water utility", "arts festival", "hockey club", "mill",
            "ferry operator", "farmers' market", "bridge authority", "tech incubator"]
VERBS = ["approves", "delays", "rejects", "unveils", "expands", "reviews", "cuts", "funds",
         "postpones", "celebrates", "investigates", "renames"]
OBJECTS = ["budget plan", "new route", "safety review", "expansion project", "winter schedule",
           "hiring freeze", "heritage site", "recycling program", "housing proposal", "river cleanup"]
WORDS = ("the a of to and in on for with at by from residents officials said plan city year "
         "meeting report week vote public local board members project cost million support "
         "community spokesperson statement early spring council funding province federal "
         "proposal concerns neighbourhood traffic schedule program staff director review").split()


@dataclass(frozen=True)
class Outlet:
    slug: str
    name: str
    site_url: str
    language: str = "en"


@dataclass(frozen=True)
class SampleArticle:
    guid: str
    url: str
    title: str
    authors: tuple[str, ...]
    published: datetime
    summary: str
    content_html: str
    categories: tuple[str, ...] = ()


@dataclass
class SampleFeed:
    outlet: Outlet
    articles: list[SampleArticle] = field(default_factory=list)


def make_outlets(n: int, seed: int = 0, base_url: str = "http://127.0.0.1") -> list[Outlet]:
    rng = random.Random(seed)
    outlets = []
    for i in range(n):
        name = f"The {rng.choice(TOWNS)} {rng.choice(OUTLET_KINDS)}"
        if i >= len(TOWNS):
            name += f" {i}"
        slug = f"outlet{i}"
        outlets.append(Outlet(slug, name, f"{base_url}/{slug}/"))
    return outlets


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, target_bytes: int) -> str:
    out: list[str] = []
    size = 0
    while size < target_bytes:
        para = " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))
        chunk = f"<p>{escape(para)}</p>"
        out.append(chunk)
        size += len(chunk)
    return "\n".join(out)


def make_articles(outlet: Outlet, n: int, seed: int = 0, body_bytes: int = 1500,
                  start: datetime | None = None) -> list[SampleArticle]:
    """``n`` articles for ``outlet``, newest first, one every 17 minutes back from ``start``."""
    rng = random.Random(f"{outlet.slug}:{seed}")
    start = start or datetime(2025, 9, 17, 15, 0, tzinfo=timezone.utc)
    articles = []
    for i in range(n):
        town = rng.choice(TOWNS)
        title = f"{town} {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        authors = tuple(f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.choice([1, 1, 1, 2])))
        body = _paragraphs(rng, body_bytes)
        summary = _sentence(rng) + " " + _sentence(rng)
        articles.append(SampleArticle(
            guid=f"{outlet.site_url}articles/{seed}-{i}",
            url=f"{outlet.site_url}articles/{seed}-{i}.html?utm_source=rss",
            title=title,
            authors=authors,
            published=start - timedelta(minutes=17 * i),
            summary=summary,
            content_html=f"<h2>{escape(title)}</h2>\n{body}\n<p><img src=\"/img/{i}.jpg\" alt=\"photo\"></p>",
            categories=(rng.choice(["Local", "Politics", "Business", "Sports", "Arts"]),),
        ))
    return articles


def rss(outlet: Outlet, articles: list[SampleArticle], *, ttl: int | None = None) -> str:
    items = []
    for a in articles:
        creators = "".join(f"<dc:creator>{escape(name)}</dc:creator>" for name in a.authors)
        cats = "".join(f"<category>{escape(c)}</category>" for c in a.categories)
        items.append(
            f"<item><title>{escape(a.title)}</title><link>{escape(a.url)}</link>"
            f"<guid isPermaLink=\"false\">{escape(a.guid)}</guid>{creators}{cats}"
            f"<pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{escape(a.summary)}</description>"
            f"<content:encoded><![CDATA[{a.content_html}]]></content:encoded></item>"
        )
    ttl_el = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(outlet.name)}</title><link>{escape(outlet.site_url)}</link>"
        f"<description>News from {escape(outlet.name)}</description><language>{outlet.language}</language>"
        f"{ttl_el}{''.join(items)}</channel></rss>"
    )


def atom(outlet: Outlet, articles: list[SampleArticle]) -> str:
    entries = []
    for a in articles:
        authors = "".join(f"<author><name>{escape(n)}</name></author>" for n in a.authors)
        entries.append(
            f"<entry><id>{escape(a.guid)}</id><title>{escape(a.title)}</title>"
            f"<link rel=\"alternate\" href=\"{escape(a.url)}\"/>{authors}"
            f"<published>{a.published.isoformat()}</published><updated>{a.published.isoformat()}</updated>"
            f"<summary>{escape(a.summary)}</summary>"
            f"<content type=\"html\">{escape(a.content_html)}</content></entry>"
        )
    updated = articles[0].published.isoformat() if articles else "2025-01-01T00:00:00+00:00"
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(outlet.name)}</title><id>{escape(outlet.site_url)}</id>"
        f"<link rel=\"alternate\" href=\"{escape(outlet.site_url)}\"/><updated>{updated}</updated>"
        f"{''.join(entries)}</feed>"
    )


def json_feed(outlet: Outlet, articles: list[SampleArticle]) -> str:
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": outlet.name,
        "home_page_url": outlet.site_url,
        "language": outlet.language,
        "items": [{
            "id": a.guid, "url": a.url, "title": a.title,
            "authors": [{"name": n} for n in a.authors],
            "date_published": a.published.isoformat(),
            "summary": a.summary, "content_html": a.content_html, "tags": list(a.categories),
        } for a in articles],
    })


def article_page(article: SampleArticle, outlet: Outlet, *, body_html: str | None = None,
                 with_meta: bool = True) -> str:
    """The publisher's HTML page for ``article``: navigation, a header, a sidebar and a footer
    around the article itself, with a byline, ``<meta property="article:published_time">`` and
    a tracking script, as full-text extraction meets them on the web."""
    names = ", ".join(article.authors)
    body = article.content_html if body_html is None else body_html
    meta = (f'<meta property="article:published_time" content="{article.published.isoformat()}">'
            f'<meta name="author" content="{escape(names)}">') if with_meta else ""
    nav = "".join(f'<li><a href="{outlet.site_url}{s}/">{s.title()}</a></li>'
                  for s in ("local", "politics", "business", "sports", "arts", "subscribe"))
    return (
        f'<!doctype html><html lang="{outlet.language}"><head><meta charset="utf-8">'
        f"<title>{escape(article.title)} | {escape(outlet.name)}</title>{meta}"
        '<script>window.trackingPixel = "TRACKING-SCRIPT-MARKER";</script></head><body>'
        f'<nav class="site-nav"><ul>{nav}</ul></nav>'
        f'<header class="masthead"><a href="{outlet.site_url}">{escape(outlet.name)}</a>'
        "<p>Sign up for our newsletter for the latest headlines, delivered daily.</p></header>"
        f'<main><article class="post"><h1>{escape(article.title)}</h1>'
        f'<p class="byline">By <span class="author">{escape(names)}</span></p>'
        f'<div class="entry-content">{body}</div>'
        '<script>document.write("SCRIPT-IN-BODY-MARKER")</script></article></main>'
        '<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/other/1">Unrelated headline one</a></li>'
        '<li><a href="/other/2">Unrelated headline two</a></li></ul></aside>'
        f'<footer class="site-footer"><p>Copyright 2025 {escape(outlet.name)}. All rights reserved.</p>'
        '<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></p></footer>'
        "</body></html>"
    )
