"""Whatever the bytes, parse_feed returns a ParsedFeed or raises ParseError: nothing else."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from newswire.errors import ParseError
from newswire.models import ParsedFeed
from newswire.parse import parse_feed
from newswire.testing import samples

SEEN = datetime(2025, 9, 18, tzinfo=timezone.utc)
_OUTLET = samples.make_outlets(1)[0]
_ARTICLES = samples.make_articles(_OUTLET, 3, body_bytes=300)
VALID = [samples.rss(_OUTLET, _ARTICLES).encode(), samples.atom(_OUTLET, _ARTICLES).encode(),
         samples.json_feed(_OUTLET, _ARTICLES).encode()]
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(body: bytes, content_type: str | None = None) -> None:
    try:
        result = parse_feed(body, url="http://127.0.0.1/feed", content_type=content_type, seen_at=SEEN)
    except ParseError as exc:
        assert str(exc).startswith("parse: ")
        return
    assert isinstance(result, ParsedFeed)
    for entry in result.entries:
        assert entry.published is not None and entry.published.utcoffset() is not None
        assert "<script" not in entry.content_html.lower()


@SETTINGS
@given(st.binary(max_size=2000), st.sampled_from([None, "text/xml; charset=utf-16", "text/xml; charset=bogus"]))
def test_arbitrary_bytes(body: bytes, content_type: str | None) -> None:
    _check(body, content_type)


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    doc = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["truncate", "delete", "insert", "flip"]))
        pos = draw(st.integers(0, max(len(doc) - 1, 0)))
        if op == "truncate":
            del doc[pos:]
        elif op == "delete":
            del doc[pos:pos + draw(st.integers(1, 40))]
        elif op == "insert":
            junk = draw(st.sampled_from([b"<", b">", b"&", b"&nbsp;", b"<item>", b"</channel>", b"<![CDATA[",
                                         b"\x00", b"\xff\xfe", b"\x93", b'"', b"<!ENTITY x 'y'>", b"]]>",
                                         b"<entry>", b"{", b"<script>x()</script>"]))
            doc[pos:pos] = junk
        elif doc:
            doc[pos] = draw(st.integers(0, 255))
    return bytes(doc)


@SETTINGS
@given(mutated_feeds())
def test_mutated_valid_feeds(body: bytes) -> None:
    _check(body)
