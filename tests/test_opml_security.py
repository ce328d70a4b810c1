"""OPML from strangers: entities never expand, only web feeds are followed, depth never loses a feed."""

from __future__ import annotations

import pytest

from newswire.errors import ParseError
from newswire.sources.opml import read_opml

REFUSED = "opml: XML entity declarations are refused"
WRAPPER = "<!-- <![CDATA[ -->\n"


def _opml(prolog: str, text: str, url: str = "https://example.com/feed") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<opml version="2.0"><head><title>T</title></head>'
            f'<body><outline text="{text}" title="{text}" type="rss" xmlUrl="{url}"/></body></opml>')


def _laughs(depth: int) -> str:
    return '<!DOCTYPE opml [\n<!ENTITY lol "lol">\n' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, depth + 1)) + "]>\n"


def _refused(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        read_opml(data)
    assert str(caught.value).startswith(REFUSED)
    assert "lollol" not in str(caught.value) and "root:" not in str(caught.value)


def test_utf16_opml_with_internal_entities_is_refused() -> None:
    text = _opml(_laughs(3), "&lol3;").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    _refused(text.encode("utf-16"))


@pytest.mark.parametrize("padding", [" " * 100_000, "<!-- " + "p" * 100_000 + " -->\n"])
def test_padding_before_the_doctype_does_not_hide_it(padding: str) -> None:
    _refused(_opml(padding + _laughs(3), "&lol3;").encode())


def test_billion_laughs_behind_a_comment_cdata_wrapper_is_refused() -> None:
    _refused(_opml(WRAPPER + _laughs(9), "&lol9;").encode())


def test_external_entity_is_refused_and_never_read() -> None:
    for prolog in ('<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
                   '<!DOCTYPE opml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'):
        _refused((WRAPPER + prolog).join(_opml("{}", "&x;").split("{}")).encode())


def test_utf16_opml_without_declarations_still_imports() -> None:
    text = _opml("", "Café wire").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert [(f.name, f.feed_url) for f in read_opml(text.encode("utf-16"))] == [
        ("Café wire", "https://example.com/feed")]


def test_a_plain_doctype_is_allowed() -> None:
    feeds = read_opml(_opml('<!DOCTYPE opml SYSTEM "http://example.com/opml.dtd">\n', "Wire").encode())
    assert [f.name for f in feeds] == ["Wire"]
