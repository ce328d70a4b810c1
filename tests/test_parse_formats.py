"""Golden pairs: small fictional feeds beside the ParsedFeed/Entry values they must give."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from unittest import mock

import pytest

from newswire.errors import ParseError
from newswire.models import Enclosure, Entry
from newswire.parse import parse_feed, xmlfeed
from newswire.testing import samples

SEEN = datetime(2025, 9, 18, 12, 0, tzinfo=timezone.utc)
URL = "https://gazette.example/feeds/news.xml"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def parse(body: str | bytes, **kw: object):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return parse_feed(data, url=URL, seen_at=SEEN, **kw)  # type: ignore[arg-type]


RSS2 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>The Maple Harbour &amp; District Gazette</title>
  <link>https://gazette.example/</link>
  <atom:link rel="self" href="https://gazette.example/feeds/news.xml"/>
  <description>Local news &lt;b&gt;daily&lt;/b&gt;</description>
  <language>en-ca</language>
  <ttl>30</ttl>
  <dc:creator>Newsroom Staff</dc:creator>
  <item>
    <title>Council &lt;em&gt;approves&lt;/em&gt; ferry   budget</title>
    <link>/news/ferry-budget.html?utm_source=rss&amp;utm_medium=feed&amp;id=7#comments</link>
    <guid isPermaLink="false">gazette-1001</guid>
    <dc:creator>By Ha Tu Thanh and Alanna Smith</dc:creator>
    <dc:creator>Alanna Smith</dc:creator>
    <category>Politics</category><category>politics</category><dc:subject>Harbour</dc:subject>
    <pubDate>Wed, 17 Sep 2025 11:01:00 EDT</pubDate>
    <description>&lt;p&gt;The council voted &amp;mdash; again.&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>The council <b>voted</b> 7&ndash;2.</p><img src="/img/ferry.jpg" alt="Ferry"><script>track()</script>]]></content:encoded>
    <enclosure url="https://gazette.example/audio/1001.mp3" type="audio/mpeg" length="12345"/>
    <media:content url="https://cdn.gazette.example/ferry.jpg" type="image/jpeg"/>
  </item>
  <item>
    <title>Library renames reading room</title>
    <link>https://gazette.example/news/library.html</link>
    <author>editor@gazette.example (Omar Okafor)</author>
    <description>Plain teaser.</description>
  </item>
  <item>
    <title>Briefs</title>
    <description>No link, no guid, no date.</description>
  </item>
</channel>
</rss>"""


def test_rss2_golden() -> None:
    feed = parse(RSS2, source_timezone="America/Toronto")
    assert (feed.title, feed.site_url, feed.format, feed.language, feed.ttl_minutes, feed.description) == (
        "The Maple Harbour & District Gazette", "https://gazette.example/", "rss2", "en-ca", 30,
        "Local news daily")
    first, second, third = feed.entries
    content = ('<p>The council <b>voted</b> 7–2.</p>'
               '<img src="https://gazette.example/img/ferry.jpg" alt="Ferry">')
    assert first == Entry(
        guid="gazette-1001",
        url="https://gazette.example/news/ferry-budget.html?id=7",
        title="Council approves ferry budget",
        authors=("Ha Tu Thanh", "Alanna Smith"),
        published=utc(2025, 9, 17, 15, 1),
        updated=None,
        published_estimated=False,
        summary="The council voted — again.",
        content_html=content,
        text="The council voted 7–2.",
        snippet="The council voted 7–2.",
        categories=("Politics", "Harbour"),
        enclosures=(Enclosure("https://gazette.example/audio/1001.mp3", "audio/mpeg", 12345),
                    Enclosure("https://cdn.gazette.example/ferry.jpg", "image/jpeg", None)),
        language="en-ca",
    )
    assert second.authors == ("Omar Okafor",)
    assert second.guid == "https://gazette.example/news/library.html"
    assert second.content_html == "Plain teaser." and second.summary == "Plain teaser."
    assert third.authors == ("Newsroom Staff",)  # the feed-level author
    assert third.published == SEEN and third.published_estimated is True
    assert third.url is None and third.guid.startswith("sha256:") and len(third.guid) == 7 + 64


RSS091 = """<?xml version="1.0"?>
<rss version="0.91"><channel><title>Port Alder Courier</title><link>http://courier.example/</link>
<description>Old school</description><language>fr</language>
<item><title>Marché d'hiver</title><link>http://courier.example/1</link>
<description>Ouvert &eacute;t&eacute; comme hiver&nbsp;!</description></item>
</channel></rss>"""


def test_rss091_with_html_entities() -> None:
    feed = parse(RSS091)
    assert feed.format == "rss09x" and feed.language == "fr"
    entry = feed.entries[0]
    assert entry.summary == "Ouvert été comme hiver !"
    assert entry.language == "fr" and entry.url == "http://courier.example/1"


RSS1 = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
 <channel rdf:about="http://herald.example/"><title>Cedar Falls Herald</title>
  <link>http://herald.example/</link><description>RDF news</description><dc:language>en</dc:language></channel>
 <item rdf:about="http://herald.example/a/1">
  <title>Transit board delays new route</title><link>http://herald.example/a/1</link>
  <dc:date>2025-09-17T09:30:00-04:00</dc:date><dc:creator>Priya Iqbal, Sven Lindqvist</dc:creator>
  <dc:subject>Transit</dc:subject>
  <content:encoded>&lt;p&gt;Delayed &lt;a href="more.html"&gt;again&lt;/a&gt;.&lt;/p&gt;</content:encoded>
 </item>
</rdf:RDF>"""


def test_rss1_rdf_golden() -> None:
    feed = parse(RSS1)
    assert (feed.format, feed.title, feed.site_url, feed.language) == (
        "rss1", "Cedar Falls Herald", "http://herald.example/", "en")
    assert feed.entries == (Entry(
        guid="http://herald.example/a/1", url="http://herald.example/a/1",
        title="Transit board delays new route", authors=("Priya Iqbal", "Sven Lindqvist"),
        published=utc(2025, 9, 17, 13, 30), summary="",
        content_html='<p>Delayed <a href="https://gazette.example/feeds/more.html" rel="noopener noreferrer">again</a>.</p>',
        text="Delayed again.", snippet="Delayed again.", categories=("Transit",), language="en"),)


ATOM10 = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xml:base="https://tribune.example/">
  <title type="html">Granite Bay &lt;i&gt;Tribune&lt;/i&gt;</title>
  <subtitle>Every day</subtitle>
  <link rel="self" href="/feed.atom"/><link href="/"/>
  <id>urn:example:tribune</id><updated>2025-09-17T12:00:00Z</updated>
  <author><name>Tribune Desk</name></author>
  <entry xml:base="/sections/city/" xml:lang="en-GB">
    <id>urn:example:tribune:42</id>
    <title type="text">Bridge &amp; tunnel &lt;review&gt;</title>
    <link rel="alternate" type="text/html" href="bridge-review?fbclid=abc"/>
    <link rel="enclosure" href="https://cdn.tribune.example/bridge.jpg" type="image/jpeg" length="2048"/>
    <author><name>Kiri Nakamura</name></author><author><name>Rosa Vasquez</name></author>
    <category term="city" label="City"/><category term="transport"/>
    <published>2025-09-17T08:15:00-04:00</published><updated>2025-09-17T10:00:00-04:00</updated>
    <summary>Engineers review the bridge.</summary>
    <content type="xhtml" xml:base="/media/"><div xmlns="http://www.w3.org/1999/xhtml"><p>See <img src="plan.png" alt="Plan"/> and <a href="../report.pdf">the report</a>.</p></div></content>
  </entry>
  <entry>
    <id>urn:example:tribune:43</id><title>Only updated</title>
    <link href="https://tribune.example/a/43"/>
    <updated>2025-09-16T10:00:00Z</updated>
    <content type="text">Line one &lt;not a tag&gt;</content>
  </entry>
</feed>"""


def test_atom10_golden_with_xml_base() -> None:
    feed = parse(ATOM10)
    assert (feed.format, feed.title, feed.site_url, feed.language, feed.description) == (
        "atom10", "Granite Bay Tribune", "https://tribune.example/", "en", "Every day")
    first, second = feed.entries
    assert first == Entry(
        guid="urn:example:tribune:42",
        url="https://tribune.example/sections/city/bridge-review",
        title="Bridge & tunnel <review>",
        authors=("Kiri Nakamura", "Rosa Vasquez"),
        published=utc(2025, 9, 17, 12, 15), updated=utc(2025, 9, 17, 14, 0),
        summary="Engineers review the bridge.",
        content_html=('<p>See <img src="https://tribune.example/media/plan.png" alt="Plan"> and '
                      '<a href="https://tribune.example/report.pdf" rel="noopener noreferrer">the report</a>.</p>'),
        text="See and the report.", snippet="See and the report.",
        categories=("City", "transport"),
        enclosures=(Enclosure("https://cdn.tribune.example/bridge.jpg", "image/jpeg", 2048),),
        language="en-GB",
    )
    assert second.published == second.updated == utc(2025, 9, 16, 10, 0)
    assert second.published_estimated is False
    assert second.authors == ("Tribune Desk",)
    assert second.content_html == "<p>Line one &lt;not a tag&gt;</p>"
    assert second.text == "Line one <not a tag>" and second.language == "en"


ATOM03 = """<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Lake Ossin Sentinel</title><link rel="alternate" type="text/html" href="http://sentinel.example/"/>
  <tagline>Old Atom</tagline>
  <entry><title>Hockey club celebrates</title>
    <link rel="alternate" type="text/html" href="http://sentinel.example/h"/>
    <id>tag:sentinel.example,2025:h</id><issued>2025-09-17T10:00:00Z</issued><modified>2025-09-17T11:00:00Z</modified>
    <author><name>Gus Hollis</name></author>
    <content type="text/html" mode="escaped">&lt;p&gt;A win.&lt;/p&gt;</content>
  </entry>
</feed>"""


def test_atom03() -> None:
    feed = parse(ATOM03)
    assert (feed.format, feed.title, feed.site_url, feed.description) == (
        "atom03", "Lake Ossin Sentinel", "http://sentinel.example/", "Old Atom")
    entry = feed.entries[0]
    assert (entry.guid, entry.url, entry.authors, entry.content_html) == (
        "tag:sentinel.example,2025:h", "http://sentinel.example/h", ("Gus Hollis",), "<p>A win.</p>")
    assert (entry.published, entry.updated) == (utc(2025, 9, 17, 10), utc(2025, 9, 17, 11))


def test_json_feed_11_golden() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1", "title": "Eastmere Observer",
        "home_page_url": "https://observer.example/", "language": "en-CA",
        "authors": [{"name": "Observer Staff"}],
        "items": [
            {"id": 1, "url": "/a/1?utm_source=json", "title": "Mill expands",
             "authors": [{"name": "Tomás Moreau"}, {"name": "Uma Rasmussen"}],
             "date_published": "2025-09-17T10:00:00+00:00", "date_modified": "2025-09-17T11:00:00Z",
             "summary": "Mill teaser.", "content_html": "<p>The mill <b>expands</b>.</p><iframe src=x></iframe>",
             "tags": ["Business", "business", "Mill"],
             "attachments": [{"url": "https://observer.example/p.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 99}]},
            {"id": "b", "title": "Text only", "content_text": "First para.\n\nSecond <para>."},
        ],
    }
    feed = parse(json.dumps(doc))
    assert (feed.format, feed.title, feed.site_url, feed.language) == (
        "json1", "Eastmere Observer", "https://observer.example/", "en-CA")
    first, second = feed.entries
    assert first == Entry(
        guid="1", url="https://gazette.example/a/1", title="Mill expands",
        authors=("Tomás Moreau", "Uma Rasmussen"),
        published=utc(2025, 9, 17, 10), updated=utc(2025, 9, 17, 11),
        summary="Mill teaser.", content_html="<p>The mill <b>expands</b>.</p>",
        text="The mill expands.", snippet="The mill expands.", categories=("Business", "Mill"),
        enclosures=(Enclosure("https://observer.example/p.mp3", "audio/mpeg", 99),), language="en-CA")
    assert second.content_html == "<p>First para.</p><p>Second &lt;para&gt;.</p>"
    assert second.text == "First para.\nSecond <para>."
    assert second.authors == ("Observer Staff",) and second.published_estimated


def test_json_feed_10_single_author() -> None:
    doc = {"version": "https://jsonfeed.org/version/1", "title": "Old JSON",
           "author": {"name": "By Viktor Whitlock"},
           "items": [{"id": "x", "url": "https://x.example/1", "content_text": "t",
                      "author": {"name": "Nadia Tremblay & Liam Pemberton"}}]}
    feed = parse(json.dumps(doc))
    assert feed.entries[0].authors == ("Nadia Tremblay", "Liam Pemberton")


def test_ill_formed_xml_is_recovered() -> None:
    body = ('<rss version="2.0"><channel><title>Broken & proud</title>'
            '<item><title>Caf&eacute; &mdash; open&nbsp;now &amp; later &copy; &bogus;</title>'
            '<description><p>Unclosed <b>bold<br>line</description><link>http://x.example/1</link></item>'
            '<item><title>Second</title><link>http://x.example/2</link></item></channel>')  # no </rss>
    feed = parse(body)
    assert feed.title == "Broken & proud"
    assert [e.title for e in feed.entries] == ["Café — open now & later © &bogus;", "Second"]
    assert [e.url for e in feed.entries] == ["http://x.example/1", "http://x.example/2"]
    assert feed.entries[0].text == "Unclosed bold\nline"


def test_truncated_feed_keeps_complete_items() -> None:
    outlet = samples.make_outlets(1)[0]
    body = samples.rss(outlet, samples.make_articles(outlet, 4, body_bytes=300))
    feed = parse(body[: body.rindex("<item>") + 20])
    assert len(feed.entries) >= 3 and feed.title == outlet.name


def test_fallback_gives_the_same_shape() -> None:
    outlet = samples.make_outlets(1)[0]
    articles = samples.make_articles(outlet, 3, body_bytes=400)
    body = samples.rss(outlet, articles).encode()
    fast = parse(body)
    with mock.patch.object(xmlfeed, "detect_format", return_value=None):
        slow = parse(body)
    assert slow.format == "feedparser:rss20" and fast.format == "rss2"
    assert slow.entries == fast.entries
    assert (slow.title, slow.site_url, slow.language) == (fast.title, fast.site_url, fast.language)


@pytest.mark.parametrize("render", [samples.rss, samples.atom, samples.json_feed])
def test_generated_feeds_round_trip(render) -> None:
    outlet = samples.make_outlets(1)[0]
    articles = samples.make_articles(outlet, 5, body_bytes=800)
    feed = parse_feed(render(outlet, articles).encode(), url=outlet.site_url + "feed", seen_at=SEEN)
    assert feed.title == outlet.name and len(feed.entries) == 5
    for entry, article in zip(feed.entries, articles):
        assert entry.guid == article.guid and entry.title == article.title
        assert entry.url == article.url.replace("?utm_source=rss", "")
        assert entry.authors == article.authors and entry.published == article.published
        assert entry.summary == article.summary
        assert '<img src="http://127.0.0.1/img/' in entry.content_html
        assert len(entry.snippet) <= 301


@pytest.mark.parametrize("body, message", [
    (b"", "parse: empty document"),
    (b"   \n\t ", "parse: empty document"),
    (b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>",
     "parse: this is an HTML page, not a feed"),
    (b"<html><body><p>Not found</p></body></html>", "parse: this is an HTML page, not a feed"),
    (bytes(range(256)) * 4, "parse: binary data, not a feed"),
    (b'{"hello": "world"}', "parse: JSON document is not a JSON Feed"),
    (b"[1, 2, 3]", "parse: JSON document is not a JSON Feed"),
    (b"{not json", "parse: invalid JSON"),
    (b"<?xml version='1.0'?><note><to>x</to></note>", "parse: unable to detect feed format"),
    (b"just some words", "parse: not a feed"),
])
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(body)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("doc", [RSS2, RSS1, ATOM10], ids=["rss2", "rss1", "atom10"])
def test_fallback_matches_fast_path_on_golden_feeds(doc: str) -> None:
    fast = parse(doc, source_timezone="America/Toronto")
    with mock.patch.object(xmlfeed, "detect_format", return_value=None):
        slow = parse(doc, source_timezone="America/Toronto")
    assert slow.format.startswith("feedparser:")
    for a, b in zip(fast.entries, slow.entries, strict=True):
        assert (a.guid, a.url, a.title, a.published, a.content_html, a.text, a.enclosures) == \
               (b.guid, b.url, b.title, b.published, b.content_html, b.text, b.enclosures)


# --- feeds as publishers write them: fallbacks and odd constructs, on both paths -------------

EXT_NS = ('xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" '
          'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"')


def rss_item(inner: str) -> str:
    return (f'<rss version="2.0" {EXT_NS}><channel><title>Juniper Point Post</title><item>{inner}'
            '<link>https://post.example/a/1</link></item></channel></rss>')


def atom_entry(inner: str, *, atom03: bool = False) -> str:
    root = ('<feed version="0.3" xmlns="http://purl.org/atom/ns#"' if atom03
            else '<feed xmlns="http://www.w3.org/2005/Atom"')
    return (f'{root} {EXT_NS}><title>Juniper Point Post</title><entry><id>urn:post:1</id>'
            f'{inner}</entry></feed>')


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _with_feedparser(doc: str):
    with mock.patch.object(xmlfeed, "detect_format", return_value=None):
        return parse(doc)


PUBLISHER_CASES = {
    "dc:title": (rss_item("<dc:title>Ferry service resumes</dc:title>"),
                 {"title": "Ferry service resumes"}),
    "title beats dc:title": (rss_item("<title>Ferry service resumes</title><dc:title>Other</dc:title>"),
                             {"title": "Ferry service resumes"}),
    "dc:description": (rss_item("<title>t</title><dc:description>Back on the water.</dc:description>"),
                       {"summary": "Back on the water.", "content_html": "Back on the water."}),
    "description beats dc:description": (
        rss_item("<title>t</title><description>Main.</description><dc:description>Other.</dc:description>"),
        {"summary": "Main."}),
    "dc:author": (rss_item("<title>t</title><dc:author>Ines Okafor</dc:author>"),
                  {"authors": ("Ines Okafor",)}),
    "itunes:summary and itunes:author": (
        rss_item("<title>t</title><itunes:summary>Episode notes.</itunes:summary>"
                 "<itunes:author>Hana Gagnon</itunes:author>"),
        {"summary": "Episode notes.", "authors": ("Hana Gagnon",)}),
    "media:title and media:description": (
        rss_item("<media:title>Clip of the ferry</media:title>"
                 "<media:description>Thirty seconds at the dock.</media:description>"),
        {"title": "Clip of the ferry", "summary": "Thirty seconds at the dock."}),
    "media:group": (
        rss_item('<media:group><media:title>Dock clip</media:title>'
                 '<media:description>At the dock.</media:description>'
                 '<media:content url="https://cdn.post.example/v.mp4" type="video/mp4"/>'
                 '<media:thumbnail url="https://cdn.post.example/t.jpg"/></media:group>'),
        {"title": "Dock clip", "summary": "At the dock.",
         "enclosures": (Enclosure("https://cdn.post.example/v.mp4", "video/mp4", None),
                        Enclosure("https://cdn.post.example/t.jpg", "image/*", None))}),
    "media:group in Atom": (
        atom_entry('<title>Dock clip</title><link href="https://post.example/a/1"/>'
                   '<media:group><media:description>At the dock.</media:description>'
                   '<media:thumbnail url="https://cdn.post.example/t.jpg"/></media:group>'),
        {"title": "Dock clip", "summary": "At the dock.",
         "enclosures": (Enclosure("https://cdn.post.example/t.jpg", "image/*", None),)}),
    "xhtml body in RSS": (
        rss_item('<title>t</title><body xmlns="http://www.w3.org/1999/xhtml"><p>Full <b>story</b>.</p></body>'),
        {"content_html": "<p>Full <b>story</b>.</p>", "text": "Full story."}),
    "atom 0.3 base64": (
        atom_entry(f'<title type="text/plain" mode="base64">{b64("Encoded & titled")}</title>'
                   f'<content type="text/html" mode="base64">{b64("<p>Encoded <i>body</i></p>")}</content>',
                   atom03=True),
        {"title": "Encoded & titled", "content_html": "<p>Encoded <i>body</i></p>"}),
    "atom 0.3 base64 without a namespace": (
        f'<feed version="0.3"><title>T</title><entry><id>urn:post:1</id>'
        f'<title type="text/plain" mode="base64">{b64("Encoded & titled")}</title>'
        f'<content type="text/html" mode="base64">{b64("<p>Encoded <i>body</i></p>")}</content></entry></feed>',
        {"title": "Encoded & titled", "content_html": "<p>Encoded <i>body</i></p>"}),
    "base64 mode in an Atom 1.0 feed": (
        atom_entry(f'<title>t</title><content type="text/html" mode="base64">{b64("<p>Encoded</p>")}</content>'),
        {"content_html": "<p>Encoded</p>"}),
    "escaped markup in an RSS title": (
        rss_item("<title>Why the &lt;blink&gt; tag vanished</title>"),
        {"title": "Why the <blink> tag vanished"}),
    "escaped markup in an Atom text title": (
        atom_entry('<title type="text">Why the &lt;blink&gt; tag vanished</title>'),
        {"title": "Why the <blink> tag vanished"}),
    "escaped markup in an Atom 0.3 plain title": (
        atom_entry('<title type="text/plain" mode="escaped">Why the &lt;blink&gt; tag vanished</title>',
                   atom03=True),
        {"title": "Why the <blink> tag vanished"}),
    "fallback text of iframe and object": (
        rss_item("<title>t</title><description><![CDATA[<p>Intro.</p>"
                 '<iframe src="https://video.example/e/1">Watch <a href="https://video.example/1">the clip</a>.</iframe>'
                 '<object data="https://video.example/1.swf"><p>Transcript below.</p></object>]]></description>'),
        {"text": "Intro.\nWatch the clip.\nTranscript below.",
         "summary": "Intro.\nWatch the clip.\nTranscript below."}),
}


@pytest.mark.parametrize("doc, expected", PUBLISHER_CASES.values(), ids=PUBLISHER_CASES.keys())
@pytest.mark.parametrize("path", ["fast", "fallback"])
def test_feeds_as_publishers_write_them(path: str, doc: str, expected: dict[str, object]) -> None:
    feed = parse(doc) if path == "fast" else _with_feedparser(doc)
    assert feed.format.startswith("feedparser:") == (path == "fallback")
    (entry,) = feed.entries
    assert {name: getattr(entry, name) for name in expected} == expected


def test_title_beats_an_earlier_dc_title_on_the_fast_path() -> None:
    # feedparser keeps whichever of the two comes first; the fast path prefers <title> always
    doc = rss_item("<dc:title>Other</dc:title><title>Ferry service resumes</title>")
    assert parse(doc).entries[0].title == "Ferry service resumes"


@pytest.mark.parametrize("summary", ["<itunes:summary>Weekly harbour talk.</itunes:summary>",
                                     "<dc:description>Weekly harbour talk.</dc:description>"])
def test_channel_falls_back_to_dc_title_and_description(summary: str) -> None:
    doc = (f'<rss version="2.0" {EXT_NS}><channel>{summary}'
           '<dc:title>Harbour Hour</dc:title><item><title>t</title></item></channel></rss>')
    for feed in (parse(doc), _with_feedparser(doc)):
        assert (feed.title, feed.description) == ("Harbour Hour", "Weekly harbour talk.")


def test_title_markup_from_known_elements_is_still_stripped() -> None:
    doc = rss_item("<title>Council &lt;em&gt;approves&lt;/em&gt; &lt;review&gt; of the &lt;b&gt;budget</title>")
    assert parse(doc).entries[0].title == "Council approves <review> of the budget"


def test_iframe_fallback_keeps_its_link_but_never_the_frame() -> None:
    entry = parse(PUBLISHER_CASES["fallback text of iframe and object"][0]).entries[0]
    assert '<a href="https://video.example/1" rel="noopener noreferrer">the clip</a>' in entry.content_html
    for gone in ("<iframe", "<object", "video.example/e/1", ".swf"):
        assert gone not in entry.content_html
