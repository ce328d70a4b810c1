"""OPML from strangers: entities never expand, only web feeds are followed, depth never loses a feed."""

from __future__ import annotations

import pytest

from newswire.errors import ParseError
from newswire.service.subscribe import import_opml
from newswire.sources.opml import MAX_CATEGORY_DEPTH, parse_opml, read_opml

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


# --- only web feeds are followed ------------------------------------------------------------

def _outlines(urls: list[str]) -> bytes:
    body = "".join(f'<outline type="rss" text="F{i}" xmlUrl="{u}"/>' for i, u in enumerate(urls))
    return f'<?xml version="1.0"?><opml version="2.0"><body>{body}</body></opml>'.encode()


REFUSED_URLS = ["javascript:alert(document.cookie)", "file:///etc/passwd", "data:text/xml,<rss/>",
                "ftp://example.com/feed", "feed.xml", "//example.com/feed", "http:///no-host",
                "JavaScript:alert(1)", " vbscript:msgbox(1)"]


def test_only_http_and_https_outlines_are_feeds_and_the_rest_are_reported() -> None:
    urls = ["https://example.com/a", *REFUSED_URLS, "HTTP://Example.com/b"]
    document = parse_opml(_outlines(urls))
    assert [f.feed_url for f in document.feeds] == ["https://example.com/a", "HTTP://Example.com/b"]
    assert document.skipped == tuple(u.strip() for u in REFUSED_URLS)
    assert read_opml(_outlines(urls)) == document.feeds


def test_feed_scheme_urls_become_http() -> None:
    document = parse_opml(_outlines(["feed://example.com/rss", "feed:https://example.com/atom"]))
    assert [f.feed_url for f in document.feeds] == ["http://example.com/rss", "https://example.com/atom"]
    assert document.skipped == ()


def test_import_follows_web_feeds_only_and_counts_the_skipped(sqlite_store) -> None:
    summary = import_opml(sqlite_store, _outlines(["https://example.com/a", *REFUSED_URLS]))
    assert (summary.added, summary.already_followed, summary.skipped) == (1, 0, len(REFUSED_URLS))
    assert [s.feed_url for s in sqlite_store.list_sources()] == ["https://example.com/a"]


def test_cli_import_reports_what_it_skipped(sqlite_url: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from newswire.cli import app

    path = tmp_path / "feeds.opml"
    path.write_bytes(_outlines(["https://example.com/a", "javascript:alert(1)", "file:///etc/passwd"]))
    result = CliRunner().invoke(app, ["import-opml", str(path), "--database", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "Imported 1 feeds" in result.output
    assert "skipped 2" in result.output and "not http(s)" in result.output


# --- depth never loses a feed silently ---------------------------------------------------------

def _nested(depth: int) -> bytes:
    return ('<?xml version="1.0"?><opml version="2.0"><body>'
            + "".join(f'<outline text="c{i}">' for i in range(depth))
            + '<outline type="rss" text="Deep" xmlUrl="https://example.com/deep"/>'
            + "</outline>" * depth + '<outline type="rss" text="Top" xmlUrl="https://example.com/top"/>'
            + "</body></opml>").encode()


def test_deep_categories_are_flattened_and_the_feed_kept() -> None:
    feeds = read_opml(_nested(200))
    assert [f.feed_url for f in feeds] == ["https://example.com/deep", "https://example.com/top"]
    assert feeds[0].category == "/".join(f"c{i}" for i in range(MAX_CATEGORY_DEPTH))


@pytest.mark.parametrize("depth", [300, 5000])
def test_nesting_beyond_what_the_parser_reads_fails_loudly(depth: int) -> None:
    with pytest.raises(ParseError, match="opml: .*nested too deeply"):
        read_opml(_nested(depth))
