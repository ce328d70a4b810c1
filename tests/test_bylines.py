"""Bylines and snippets of wire copy: the organisation a byline credits is not an author (it is
the article's credit, stored and shown on its page), and a snippet starts with the news, not with
the headline, a byline or a dateline. Feeds come from the demo's fictional newsroom, which
credits wire copy in each of the ways papers do."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from newswire.demo.newsroom import WIRE_NAME, Newsroom
from newswire.models import SourceUpdate
from newswire.parse import parse_feed
from newswire.parse.authors import split_byline
from newswire.parse.lede import lede
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web.app import create_app

NOW = datetime(2025, 9, 17, 16, 0, tzinfo=timezone.utc)
TITLE = "Ministry approves levy in Lake Ossin"
NEWS = "The ministry approved the levy on Tuesday after months of talks."


@pytest.mark.parametrize("raw, names, credit", [
    ("By Ada Moreau, The Canadian Wire", ["Ada Moreau"], "The Canadian Wire"),
    ("Ines Rasmussen — The Canadian Wire", ["Ines Rasmussen"], "The Canadian Wire"),
    ("BY JANE DOE, THE CANADIAN PRESS", ["Jane Doe"], "The Canadian Press"),
    ("Jane Doe, AP", ["Jane Doe"], "AP"),
    ("Jane Doe and Omar Okafor, Maple Harbour Gazette", ["Jane Doe", "Omar Okafor"], "Maple Harbour Gazette"),
    ("Jane Doe - Reuters", ["Jane Doe"], "Reuters"),
    ("Ha Tu Thanh, Alanna Smith", ["Ha Tu Thanh", "Alanna Smith"], None),  # two people
    ("Jean-Paul Roy", ["Jean-Paul Roy"], None),
    ("The Canadian Press", ["The Canadian Press"], None),  # only an organisation: it is the byline
    ("Canadian Wire staff", ["Canadian Wire staff"], None),
])
def test_a_byline_keeps_its_organisation_out_of_the_authors(raw, names, credit):
    assert split_byline(raw) == (names, credit)


def test_the_feeds_own_title_is_an_organisation_in_a_byline():
    assert split_byline("Jane Doe, Le Courrier du Lac", publisher="Le Courrier du Lac") == (["Jane Doe"],
                                                                                              "Le Courrier du Lac")
    assert split_byline("Jane Doe, Marc Roy") == (["Jane Doe", "Marc Roy"], None)


@pytest.mark.parametrize("text, names", [
    (f"Ines Rasmussen — The Canadian Wire\nLAKE OSSIN — {NEWS}", ["Ines Rasmussen", "The Canadian Wire"]),
    (f"Ines Rasmussen — The Canadian Wire LAKE OSSIN — {NEWS}", ["Ines Rasmussen", "The Canadian Wire"]),
    (f"By Ada Moreau, The Canadian Wire\nLAKE OSSIN — {NEWS}", ["Ada Moreau", "The Canadian Wire"]),
    (f"CANADIAN WIRE STAFF\nOTTAWA, Ont. (CP) — {NEWS}", ["Canadian Wire staff"]),
    (f"{TITLE}\nBy Ada Moreau\nWASHINGTON (AP) -- {NEWS}", ["Ada Moreau"]),
    (f"{TITLE}\n{NEWS}", []),
    (f"{TITLE} — {NEWS[0].lower()}{NEWS[1:]}", []),  # the headline as a clause of its own
    (f"LAKE OSSIN — {TITLE} — {NEWS[0].lower()}{NEWS[1:]}", []),
    (f"{TITLE} Ines Rasmussen — The Canadian Wire LAKE OSSIN — {NEWS}", ["Ines Rasmussen", "The Canadian Wire"]),
    (f"Ines Rasmussen — The Canadian Wire LAKE OSSIN — {NEWS}", ["Ines Rasmussen"]),  # the feed named no agency
])
def test_a_snippet_starts_with_the_news(text, names):
    assert lede(text, TITLE, names) == NEWS


@pytest.mark.parametrize("text", [
    f"{TITLE} after a debate that ran past midnight, officials said.",  # the lede goes on
    "Ada Moreau said on Tuesday that the ministry would approve the levy.",  # names its author in a sentence
    "US officials — and others — said the levy would pass.",
    "LAKE OSSIN",
])
def test_a_lede_that_is_news_stays_whole(text):
    assert lede(text, TITLE, ["Ada Moreau"]) == text


def wire_copies() -> list[tuple[str, object]]:
    """The first wire story as the wire and every paper that ran it carry it: (style, entry)."""
    room = Newsroom("http://127.0.0.1:9", seed=3)
    room.publish_wire_story(NOW)
    copies = []
    for paper in room.outlets:
        if room.articles[paper.outlet.slug]:
            document, content_type = room.render(paper)
            feed = parse_feed(document.encode(), url="http://127.0.0.1:9" + room.feed_path(paper),
                              content_type=content_type, seen_at=NOW)
            copies.append((paper.byline_style, feed.entries[0]))
    return copies


def test_wire_copy_from_feeds_has_people_as_authors_the_agency_as_credit_and_news_as_snippet():
    copies = wire_copies()
    assert {style for style, _ in copies} == {"full", "staff", "name"}
    snippets = {entry.snippet for _, entry in copies}
    assert len(snippets) == 1, snippets  # every byline style gives the same start
    snippet = snippets.pop()
    title = copies[0][1].title
    assert not snippet.casefold().startswith(title.casefold()[:20]), snippet
    assert not re.match(r"^[A-Z .]{3,} —", snippet) and "Canadian Wire" not in snippet[:60], snippet
    for style, entry in copies:
        assert WIRE_NAME not in entry.authors
        if style == "full":
            assert entry.credit == WIRE_NAME and len(entry.authors) == 1


def test_the_credit_is_stored_served_and_shown_beside_the_author(store):
    (_, entry), = [(s, e) for s, e in wire_copies() if s == "full"][:1]
    source = store.add_source("http://127.0.0.1:9/port-alder-post/feed.xml", name="The Port Alder Post")
    store.save_refresh(source.id, SourceUpdate(fetched_at=NOW, status="ok", next_due_at=NOW + timedelta(hours=1)),
                       [entry])
    (article,) = store.list_articles().items
    assert article.authors == entry.authors and article.credit == WIRE_NAME
    app = create_app(store, LOOPBACK, timezone=ZoneInfo("America/Toronto"))
    with WebServer(app) as server, httpx.Client(base_url=server.base_url, timeout=20) as client:
        page = client.get(f"/articles/{article.id}").text
        facts = re.search(r'<dl class="story-facts">(.*?)</dl>', page, flags=re.S).group(1)
        lines = [" ".join(re.sub(r"<[^>]+>", " ", line).split()) for line in re.findall(r"<div[^>]*>(.*?)</div>", facts)]
        when = entry.published.astimezone(ZoneInfo("America/Toronto")).strftime("%B %d, %Y - %H:%M")
        assert lines == ["Source Feed: The Port Alder Post", f"Author: {entry.authors[0]}",
                         f"Credit: {WIRE_NAME}", f"Publication Date: {when}"]
        (item,) = client.get("/api/v1/articles").json()["items"]
        assert item["authors"] == list(entry.authors) and item["credit"] == WIRE_NAME
        assert client.get(f"/api/v1/articles/{article.id}").json()["credit"] == WIRE_NAME
        assert client.get(f"/authors/{WIRE_NAME}").status_code == 404  # the agency is nobody's name
