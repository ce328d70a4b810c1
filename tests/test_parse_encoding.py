"""Feed bytes in any of the encodings found in the wild give readable text."""

from __future__ import annotations

import codecs
from datetime import datetime, timezone

import pytest

from newswire.parse import parse_feed
from newswire.parse.encoding import decode

SEEN = datetime(2025, 9, 18, tzinfo=timezone.utc)
TITLE = "Café “quoted” — naïve"


def _rss(title: str, declared: str | None = None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    return (f'{decl}<rss version="2.0"><channel><title>Feed</title>'
            f'<item><title>{title}</title><guid>g1</guid></item></channel></rss>')


def _title(body: bytes, content_type: str | None = None) -> str:
    return parse_feed(body, url="http://example.com/feed", content_type=content_type,
                      seen_at=SEEN).entries[0].title


def test_utf8_without_any_declaration() -> None:
    assert _title(_rss(TITLE).encode("utf-8")) == TITLE


def test_utf8_bom_wins_over_declared_and_http_charsets() -> None:
    body = codecs.BOM_UTF8 + _rss(TITLE, "iso-8859-1").encode("utf-8")
    assert _title(body, "text/xml; charset=windows-1251") == TITLE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    assert _title(bom + _rss(TITLE, "utf-16").encode(codec)) == TITLE


def test_declared_windows_1252() -> None:
    assert _title(_rss(TITLE, "windows-1252").encode("cp1252")) == TITLE


def test_declared_latin1_is_read_as_windows_1252() -> None:
    # smart quotes (0x93/0x94) and the em dash (0x97) exist only in Windows-1252
    assert _title(_rss(TITLE, "ISO-8859-1").encode("cp1252")) == TITLE


def test_http_charset_used_when_bytes_are_not_utf8_and_nothing_declared() -> None:
    assert _title(_rss("Привет мир").encode("koi8-r"), "application/rss+xml; charset=KOI8-R") == "Привет мир"


def test_http_and_declared_disagree_utf8_bytes_win() -> None:
    body = _rss(TITLE, "iso-8859-1").encode("utf-8")
    assert _title(body, "text/xml; charset=iso-8859-1") == TITLE


def test_http_says_utf8_but_bytes_are_windows_1252_as_declared() -> None:
    body = _rss(TITLE, "windows-1252").encode("cp1252")
    assert _title(body, "text/xml; charset=utf-8") == TITLE


def test_utf8_with_stray_windows_1252_bytes() -> None:
    body = _rss("Caf\u00e9 TITLE").encode("utf-8").replace(b"TITLE", b"\x93quoted\x94 \xe9t\xe9")
    assert _title(body) == "Café “quoted” été"


def test_decode_never_raises_on_undefined_cp1252_bytes() -> None:
    assert decode(b"<a>\x81\x8d\x8f\x90\x9d</a>", "text/xml; charset=latin-1").startswith("<a>")
