"""Full-text extraction from generated article pages, and the teaser tests. Pure: no I/O."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from newswire.enrich.extract import _TEASER_ENDINGS, extract_page, is_teaser, looks_like_teaser
from newswire.testing.samples import article_page, make_articles, make_outlets

OUTLET = make_outlets(1, seed=3)[0]
ARTICLE = make_articles(OUTLET, 1, seed=3, body_bytes=2500)[0]


def test_main_text_found_and_boilerplate_dropped() -> None:
    page = extract_page(article_page(ARTICLE, OUTLET), ARTICLE.url)
    assert page is not None
    first_paragraph = ARTICLE.content_html.split("<p>")[1].split(".")[0]
    assert first_paragraph in page.text
    assert len(page.text) > 2000
    for boilerplate in ("All rights reserved", "Privacy policy", "Most read", "Sign up for our newsletter",
                        "Subscribe", "Unrelated headline"):
        assert boilerplate not in page.text
    assert "MARKER" not in page.html and "<script" not in page.html
    assert page.html.startswith("<p>")


def test_author_and_date_from_the_page() -> None:
    page = extract_page(article_page(ARTICLE, OUTLET), ARTICLE.url)
    assert page is not None
    assert page.authors == ARTICLE.authors
    assert page.published == ARTICLE.published


def test_bytes_and_relative_links_resolved_against_the_page() -> None:
    body = ARTICLE.content_html + '<p>See <a href="/related/7.html">the council minutes</a> for more.</p>'
    page = extract_page(article_page(ARTICLE, OUTLET, body_html=body).encode("utf-8"), ARTICLE.url)
    assert page is not None
    assert 'href="http://127.0.0.1/related/7.html"' in page.html


def test_no_metadata_means_none() -> None:
    page = extract_page(article_page(ARTICLE, OUTLET, with_meta=False).replace('class="byline"', 'class="x"'),
                        ARTICLE.url)
    assert page is not None
    assert page.published is None


@pytest.mark.parametrize("html", ["", b"", "   ", "<html><body></body></html>",
                                  "<html><body><nav><a href='/'>Home</a></nav><p>Short.</p></body></html>",
                                  b"\x89PNG\r\n\x1a\n\x00\x00binary"])
def test_no_main_text_is_none(html: str | bytes) -> None:
    assert extract_page(html, "http://127.0.0.1/a.html") is None


def test_is_teaser() -> None:
    page_text = "word " * 600
    assert is_teaser("word " * 40, page_text)
    assert not is_teaser("word " * 550, page_text)
    assert not is_teaser("word " * 10, "word " * 100)  # page too short to tell


@pytest.mark.parametrize(("text", "expected"), [
    ("The council met on Tuesday to discuss the budget…", True),
    ("The council met on Tuesday to discuss the budget [...]", True),
    ("The council met on Tuesday. Read more", True),
    ("The council met on Tuesday. Continue reading Port Alder approves budget →", True),
    ("The council met on Tuesday and approved the budget.", False),
    ("", False),
    ("word " * 400 + "…", False),
    ("word " * 230 + "…", True),  # 1,151 characters once its spaces are one each
    ("word" + "\n \t " * 600 + "word…", True),  # long only in its whitespace
    ("word " * 239 + "word…", False),  # 1,200 exactly
])
def test_looks_like_teaser(text: str, expected: bool) -> None:
    assert looks_like_teaser(text) is expected


def test_published_is_aware_utc_comparable() -> None:
    page = extract_page(article_page(ARTICLE, OUTLET), ARTICLE.url)
    assert page is not None and page.published is not None
    assert page.published.astimezone(timezone.utc) == ARTICLE.published
    assert isinstance(page.published, datetime)


# looks_like_teaser's shortcut (an opening with no leading or doubled whitespace is long enough)
# must answer as the plain rule does, whatever the text.

WHITESPACE = "".join(chr(cp) for cp in range(0x110000) if chr(cp).isspace())


def _looks_like_teaser_reference(entry_text: str) -> bool:
    """The rule as first written: collapse all the whitespace, then judge."""
    text = " ".join(entry_text.split())
    return bool(text) and len(text) < 1200 and _TEASER_ENDINGS.search(text) is not None


def test_whitespace_is_one_thing_to_regex_isspace_and_split() -> None:
    """The shortcut finds doubled whitespace with ``\\s``; the rule collapses what ``split`` splits."""
    everything = "".join(chr(cp) for cp in range(0x110000))
    assert len(WHITESPACE) == 29  # Unicode's White_Space plus the four ASCII separators \x1c–\x1f
    assert "".join(re.findall(r"\s", everything)) == WHITESPACE
    assert {c for c in everything if len(("a" + c + "a").split()) == 2} == set(WHITESPACE)


def _edge_texts() -> list[str]:
    """Texts whose collapsed length is near 1,200 (and 2,400, where the opening's test ends), with
    every kind of whitespace leading, trailing, single and doubled, with and without a teaser's
    ending."""
    texts = []
    lengths = [*range(1194, 1207), *range(2394, 2407)]
    for sep in WHITESPACE:
        for lead in ("", sep, sep * 2, sep + " "):
            for tail in ("", sep, "…", "…" + sep, "…" + sep * 2, " [...]" + sep, " Read more" + sep):
                for length in lengths:
                    size = length - len(lead) - len(tail)
                    for middle in (("word" + sep) * 700)[:size], "x" * size:
                        texts.append(lead + middle + tail)
        for length in lengths:  # a run of whitespace inside, near the opening's end
            for at in (1, 600, 1198, 1199, 1200, 1201, 1202, length - 2):
                for run in (sep, sep * 2, sep + "x" + sep):
                    texts.append("x" * at + run + "x" * (length - at - len(run) - 1) + "…")
    return texts


def test_looks_like_teaser_as_the_plain_rule_at_every_edge() -> None:
    texts = _edge_texts()
    differing = [t for t in texts if looks_like_teaser(t) is not _looks_like_teaser_reference(t)]
    assert not differing, [(len(t), repr(t[:8]), repr(t[1195:1205])) for t in differing[:5]]
    assert {looks_like_teaser(t) for t in texts} == {True, False}


@given(st.lists(st.sampled_from(["word", "x", "…", "...", "Read more", " ", "  ", "\n", "\xa0", "\u3000",
                                 "\x1f", "\t\n"]), max_size=900))
@settings(max_examples=300, deadline=None)
def test_looks_like_teaser_as_the_plain_rule(parts: list[str]) -> None:
    text = "".join(parts)
    assert looks_like_teaser(text) is _looks_like_teaser_reference(text)
