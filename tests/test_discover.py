from newswire.sources.discover import find_feed_links


def test_alternate_links_with_feed_types_resolve_against_base():
    page = b"""<html><head><base href="/news/">
      <link rel="stylesheet" href="/style.css">
      <link rel="alternate" type="application/rss+xml" title="RSS" href="feed.xml">
      <link rel="Alternate" type="application/atom+xml" href="https://other.test/atom">
      <link rel="alternate" type="text/html" href="/fr/">
      <link rel="alternate" type="application/rss+xml" href="feed.xml">
    </head><body></body></html>"""
    assert find_feed_links(page, "https://site.test/index.html") == [
        "https://site.test/news/feed.xml", "https://other.test/atom"]


def test_page_without_feeds_or_garbage_gives_none():
    assert find_feed_links(b"<html><head><title>x</title></head></html>", "https://site.test/") == []
    assert find_feed_links(b"", "https://site.test/") == []
    assert find_feed_links(b"\x00\x01\x02", "https://site.test/") == []
