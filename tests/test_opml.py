import pytest

from newswire.errors import ParseError
from newswire.sources.opml import OpmlFeed, read_opml, write_opml

NESTED = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>mine</title></head><body>
  <outline text="News">
    <outline text="Canada">
      <outline type="rss" text="Maple Harbour Gazette" xmlUrl="http://example.test/mh.xml" htmlUrl="http://example.test/"/>
    </outline>
    <outline type="rss" title="Port Alder Post" text="ignored" xmlUrl="http://example.test/pa.xml"/>
  </outline>
  <outline type="rss" text="Top level" xmlUrl="http://example.test/top.xml"/>
  <outline type="rss" text="Tagged" xmlUrl="http://example.test/tag.xml" category="/Sports/Hockey,/Other"/>
</body></opml>"""


def test_nested_outlines_become_category_paths():
    assert read_opml(NESTED) == [
        OpmlFeed("http://example.test/mh.xml", "Maple Harbour Gazette", "http://example.test/", "News/Canada"),
        OpmlFeed("http://example.test/pa.xml", "Port Alder Post", None, "News"),
        OpmlFeed("http://example.test/top.xml", "Top level", None, None),
        OpmlFeed("http://example.test/tag.xml", "Tagged", None, "Sports/Hockey"),
    ]


def test_round_trip_keeps_every_feed_name_and_category():
    feeds = read_opml(NESTED)
    key = lambda f: f.feed_url  # noqa: E731 - export groups feeds by category
    assert sorted(read_opml(write_opml(feeds).encode()), key=key) == sorted(feeds, key=key)


def test_names_with_markup_characters_survive_round_trip():
    feeds = [OpmlFeed('http://example.test/a.xml?x=1&y="2"', "Rock & Roll <Daily>", None, "A & B/C")]
    assert read_opml(write_opml(feeds).encode()) == feeds


@pytest.mark.parametrize("data", [b"", b"<html><body>hi</body></html>", b"\x00\xff\xfe garbage",
                                  b"<opml><head/></opml>"])
def test_not_opml_is_a_clear_error(data):
    with pytest.raises(ParseError, match="opml"):
        read_opml(data)


def test_entity_declarations_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<opml><body><outline text="&x;" xmlUrl="http://example.test/a"/></body></opml>').encode()
    with pytest.raises(ParseError, match="entity"):
        read_opml(doc)


def test_a_truncated_file_is_an_error_that_says_where_not_zero_feeds() -> None:
    with pytest.raises(ParseError, match="damaged at line 1"):
        read_opml(b'<opml version="2.0"><body><outline text="Gazette" xmlUrl="http://example.test/f')


def test_an_empty_but_well_formed_list_is_not_an_error() -> None:
    assert read_opml(b'<opml version="2.0"><head/><body></body></opml>') == []


def test_bare_ampersands_in_urls_keep_every_parameter() -> None:
    (feed,) = read_opml(b'<opml version="2.0"><body><outline text="A & B" '
                        b'xmlUrl="http://example.test/feed?x=1&y=2&amp;z=3"/></body></opml>')
    assert feed.feed_url == "http://example.test/feed?x=1&y=2&z=3" and feed.name == "A & B"


def test_import_opml_of_a_damaged_file_exits_non_zero(tmp_path) -> None:
    from typer.testing import CliRunner

    from newswire.cli import app

    damaged = tmp_path / "cut.opml"
    damaged.write_bytes(b'<opml version="2.0"><body><outline text="Gazette" xmlUrl="http://exa')
    result = CliRunner().invoke(app, ["import-opml", str(damaged), "--database", f"sqlite:///{tmp_path / 'n.db'}"])
    assert result.exit_code == 1 and "damaged" in result.output and "Traceback" not in result.output
