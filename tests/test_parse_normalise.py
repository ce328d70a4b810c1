"""The pure helpers of the parse stage: dates, authors, URLs, HTML, text and snippets."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from newswire.parse.normalise import (
    canonical_url, html_to_text, make_snippet, normalise_author_name, parse_date, sanitize_html,
    split_authors,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, expected", [
    ("Wed, 17 Sep 2025 11:01:00 GMT", utc(2025, 9, 17, 11, 1)),
    ("Wed, 17 Sep 2025 11:01:00 +0000", utc(2025, 9, 17, 11, 1)),
    ("Wed, 17 Sep 2025 11:01:00 EST", utc(2025, 9, 17, 16, 1)),
    ("Wed, 17 Sep 2025 11:01:00 EDT", utc(2025, 9, 17, 15, 1)),
    ("Wed, 17 Sep 2025 11:01:00 CST", utc(2025, 9, 17, 17, 1)),
    ("Wed, 17 Sep 2025 11:01:00 CDT", utc(2025, 9, 17, 16, 1)),
    ("Wed, 17 Sep 2025 11:01:00 MST", utc(2025, 9, 17, 18, 1)),
    ("Wed, 17 Sep 2025 11:01:00 MDT", utc(2025, 9, 17, 17, 1)),
    ("Wed, 17 Sep 2025 11:01:00 PST", utc(2025, 9, 17, 19, 1)),
    ("Wed, 17 Sep 2025 11:01:00 PDT", utc(2025, 9, 17, 18, 1)),
    ("Wed, 17 Sep 2025 11:01:00 UT", utc(2025, 9, 17, 11, 1)),
    ("Wed, 17 Sep 2025 11:01:00 Z", utc(2025, 9, 17, 11, 1)),
    ("17 Sep 2025 11:01:00 +0000", utc(2025, 9, 17, 11, 1)),          # no weekday
    ("Mon, 17 Sep 2025 11:01:00 +0000", utc(2025, 9, 17, 11, 1)),     # wrong weekday
    ("Wed, 17 Sep 25 11:01:00 +0000", utc(2025, 9, 17, 11, 1)),       # two-digit year
    ("Wed, 17 Sep 99 11:01:00 +0000", utc(1999, 9, 17, 11, 1)),
    ("Wed, 17 Sep 2025 11:01:00 +05:30", utc(2025, 9, 17, 5, 31)),
    ("wed, 17 sep 2025 11:01:00 gmt", utc(2025, 9, 17, 11, 1)),       # lower case
    ("Wed, 17 Sep 2025 11:01 -0400", utc(2025, 9, 17, 15, 1)),        # no seconds
    ("17 septembre 2025 11:01:00 +0200", utc(2025, 9, 17, 9, 1)),     # French month
    ("mer., 17 sept. 2025 11:01:00 +0200", utc(2025, 9, 17, 9, 1)),
    ("2025-09-17T11:01:00Z", utc(2025, 9, 17, 11, 1)),
    ("2025-09-17T11:01Z", utc(2025, 9, 17, 11, 1)),                  # no seconds
    ("2025-09-17T11:01:00.123456Z", utc(2025, 9, 17, 11, 1, 0, 123456)),
    ("2025-09-17T11:01:00.5+02:00", utc(2025, 9, 17, 9, 1, 0, 500000)),
    ("2025-09-17 11:01:00-04:00", utc(2025, 9, 17, 15, 1)),           # space for T
    ("2025-09-17t11:01:00z", utc(2025, 9, 17, 11, 1)),
    ("2025-09-17", utc(2025, 9, 17)),
    ("September 17, 2025 11:01 PM EDT", utc(2025, 9, 18, 3, 1)),       # dateutil last resort
])
def test_parse_date(raw: str, expected: datetime) -> None:
    assert parse_date(raw, "UTC") == expected


def test_parse_date_without_zone_is_read_in_source_timezone() -> None:
    assert parse_date("2025-09-17T11:01:00", "America/Toronto") == utc(2025, 9, 17, 15, 1)
    assert parse_date("Wed, 17 Sep 2025 11:01:00", "Europe/Paris") == utc(2025, 9, 17, 9, 1)
    assert parse_date("2025-01-17", "America/Toronto") == utc(2025, 1, 17, 5, 0)


def test_parse_date_result_is_aware_utc() -> None:
    value = parse_date("2025-09-17T11:01:00+02:00", "UTC")
    assert value is not None and value.utcoffset() is not None and value.tzinfo == timezone.utc


@pytest.mark.parametrize("raw", ["", "   ", "garbage", "yesterday", "12", "2025-13-45",
                                 "Wed, 45 Foo 2025 99:99:99", "31 Feb 2025", "\x00\x01", "9" * 500])
def test_parse_date_garbage_is_none(raw: str) -> None:
    assert parse_date(raw, "UTC") is None


def test_parse_date_unknown_timezone_name_falls_back_to_utc() -> None:
    assert parse_date("2025-09-17T11:01:00", "Not/A_Zone") == utc(2025, 9, 17, 11, 1)


@pytest.mark.parametrize("raw, expected", [
    ("By Ha Tu Thanh and Alanna Smith", ["Ha Tu Thanh", "Alanna Smith"]),
    ("Ha Tu Thanh, Alanna Smith", ["Ha Tu Thanh", "Alanna Smith"]),
    ("Ha Tu Thanh & Alanna Smith", ["Ha Tu Thanh", "Alanna Smith"]),
    ("BY JANE DOE", ["Jane Doe"]),
    ("by Jane Doe", ["Jane Doe"]),
    ("Par Marie Tremblay et Luc Gagnon", ["Marie Tremblay", "Luc Gagnon"]),
    ("jane@example.com (Jane Doe)", ["Jane Doe"]),
    ("Jane Doe <jane@example.com>", ["Jane Doe"]),
    ("Jane Doe, jane  doe, Omar Okafor", ["Jane Doe", "Omar Okafor"]),
    ("  Jane   Doe  ", ["Jane Doe"]),
    ("Ada Abernathy, Bruno Bélanger and Chloé Castellano", ["Ada Abernathy", "Bruno Bélanger", "Chloé Castellano"]),
    ("", []),
    ("By ", []),
])
def test_split_authors(raw: str, expected: list[str]) -> None:
    assert split_authors(raw) == expected


def test_normalise_author_name() -> None:
    assert normalise_author_name("  Jane\tDOE ") == "jane doe"
    assert normalise_author_name("Chloé Castellano") == normalise_author_name("CHLOÉ  castellano")


@pytest.mark.parametrize("url, base, expected", [
    ("https://example.com/a?utm_source=rss&utm_medium=feed&id=3", None, "https://example.com/a?id=3"),
    ("https://example.com/a?fbclid=1&gclid=2&dclid=3&mc_cid=4&mc_eid=5&_hsenc=6&_hsmi=7&yclid=8"
     "&igshid=9&ref_src=10", None, "https://example.com/a"),
    ("HTTPS://Example.COM:443/A/b#section", None, "https://example.com/A/b"),
    ("http://example.com:8080/x", None, "http://example.com:8080/x"),
    ("/news/1.html?utm_campaign=x", "https://example.com/feed/", "https://example.com/news/1.html"),
    ("2.html", "https://example.com/news/", "https://example.com/news/2.html"),
    ("https://example.com/s?q=a%20b&page=2", None, "https://example.com/s?q=a%20b&page=2"),
    ("javascript:alert(1)", None, None),
    ("mailto:a@example.com", None, None),
    ("", None, None),
    ("http://[bad", None, None),
])
def test_canonical_url(url: str, base: str | None, expected: str | None) -> None:
    assert canonical_url(url, base) == expected


def test_sanitize_html_removes_active_content_and_resolves_links() -> None:
    dirty = (
        '<p onclick="steal()">Hi <a href="/a" onmouseover="x()">rel</a>'
        '<a href="javascript:alert(1)">js</a><a href="data:text/html,x">data</a>'
        '<img src="img/1.jpg" alt="A" width="10" height="5" onerror="x()">'
        '<img src="data:image/png;base64,AAAA"></p>'
        '<script>alert(1)</script><style>p{}</style><iframe src="https://x.example/">f</iframe>'
        '<object data="x.swf">o</object><embed src="y">'
        '<h2>Head</h2><ul><li>one</li></ul><ol><li>two</li></ol><blockquote>q</blockquote>'
        '<figure><img src="https://cdn.example.com/f.jpg"><figcaption>cap</figcaption></figure>'
        '<table><tr><td>c</td></tr></table><em>e</em><strong>s</strong><code>c</code><pre>p</pre><br>'
    )
    clean = sanitize_html(dirty, "https://example.com/news/page")
    for bad in ("onclick", "onmouseover", "onerror", "javascript:", "data:", "<script", "alert",
                "<style", "<iframe", "<object", "<embed"):
        assert bad not in clean
    assert '<a href="https://example.com/a" rel="noopener noreferrer">rel</a>' in clean
    assert '<img src="https://example.com/news/img/1.jpg" alt="A" width="10" height="5">' in clean
    for keep in ("<h2>Head</h2>", "<ul><li>one</li></ul>", "<ol><li>two</li></ol>",
                 "<blockquote>q</blockquote>", "<figcaption>cap</figcaption>", "<td>c</td>",
                 "<em>e</em>", "<strong>s</strong>", "<code>c</code>", "<pre>p</pre>", "<br>"):
        assert keep in clean


def test_html_to_text() -> None:
    html = "<h2>Title</h2>\n<p>One &amp; two&nbsp;three   <b>bold</b></p><p>Caf&eacute; &lt;tag&gt;</p><script>x()</script>"
    assert html_to_text(html) == "Title\nOne & two three bold\nCafé <tag>"


def test_make_snippet_cuts_at_word_boundary() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    snippet = make_snippet(text, 50)
    assert snippet.endswith("…") and len(snippet) <= 51
    assert text.startswith(snippet[:-1]) and text[len(snippet) - 1] == " "
    assert make_snippet("short text", 50) == "short text"


def test_snippet_does_not_repeat_the_headline_that_opens_the_body():
    from datetime import datetime, timezone

    from newswire.parse import parse_feed

    feed = ('<rss version="2.0"><channel><title>T</title><item><title>Ferry returns</title>'
            '<description><![CDATA[<h2>Ferry returns</h2><p>The ferry is back on the water.</p>]]>'
            '</description></item></channel></rss>').encode()
    (entry,) = parse_feed(feed, url="http://example.test/feed", seen_at=datetime.now(timezone.utc)).entries
    assert entry.snippet == "The ferry is back on the water."
    assert entry.text.startswith("Ferry returns")


def test_snippet_keeps_a_lede_that_begins_with_the_headline_words():
    """A lede that goes on from the headline's words stays whole; one that repeats the headline
    as a clause of its own ("Headline — a move…") does not repeat it (issue 9)."""
    from datetime import datetime, timezone

    from newswire.parse import parse_feed

    def snippet(description: str) -> str:
        feed = ('<rss version="2.0"><channel><title>T</title><item><title>Ferry returns</title>'
                f'<description>{description}</description></item></channel></rss>').encode()
        (entry,) = parse_feed(feed, url="http://example.test/feed", seen_at=datetime.now(timezone.utc)).entries
        return entry.snippet

    assert snippet("Ferry returns to the harbour after a month.") == "Ferry returns to the harbour after a month."
    assert snippet("Ferry returns — a move residents welcomed.") == "A move residents welcomed."


def test_authors_come_out_in_nfc_whatever_form_the_feed_used():
    import unicodedata
    from datetime import datetime, timezone

    from newswire.parse import parse_feed

    composed, decomposed = "Jos\u00e9 Nu\u00f1ez", unicodedata.normalize("NFD", "Jos\u00e9 Nu\u00f1ez")
    assert composed != decomposed
    assert split_authors(f"By {decomposed}") == [composed]
    assert split_authors(f"{decomposed}, {composed} and Ana") == [composed, "Ana"]
    feed = ('<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
            f'<dc:creator>{decomposed}</dc:creator><item><title>a</title><dc:creator>{decomposed}</dc:creator>'
            f'</item><item><title>b</title><dc:creator>{composed}</dc:creator></item><item><title>c</title>'
            '</item></channel></rss>').encode()
    entries = parse_feed(feed, url="http://example.test/feed", seen_at=datetime.now(timezone.utc)).entries
    assert [e.authors for e in entries] == [(composed,)] * 3
