"""The Fever API's request parsing and answer building, without a server: what each client
parameter means, how hostile values are read, and the JSON members built from store objects."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl

from hypothesis import given, strategies as st

from newswire.models import Article, Source
from newswire.sync import fever_answers as answers
from newswire.sync.fever_params import (ITEMS_PER_PAGE, LAST_SECOND, MAX_ID, ItemsQuery, Mark, form_pairs,
                                        parse_request)

KEY = "0123456789abcdef0123456789abcdef"


def ask(query: str) -> object:
    return parse_request(parse_qsl(query, keep_blank_values=True))


def test_the_key_is_an_md5_hex_digest_in_any_case():
    assert ask(f"api&api_key={KEY.upper()}").api_key == KEY
    assert ask(f"api&api_key=+{KEY}+").api_key == KEY
    for bad in ("", "abc", KEY + "0", "g" * 32, KEY[:-1] + "\u0661"):
        assert ask(f"api&api_key={bad}").api_key is None
    assert ask("api").api_key is None


def test_sections_are_the_names_present():
    asked = ask(f"api&api_key={KEY}&groups&feeds=1&unread_item_ids&saved_item_ids&favicons&links&items&refresh")
    assert asked.sections == {"groups", "feeds", "unread_item_ids", "saved_item_ids", "favicons", "links", "items"}
    assert ask("api").sections == frozenset()


def test_items_pages_by_since_id_max_id_and_with_ids():
    assert ask("items").items == ItemsQuery("since", 0)
    assert ask("items&since_id=42").items == ItemsQuery("since", 42)
    assert ask("items&since_id=42&max_id=7").items == ItemsQuery("since", 42)
    assert ask("items&max_id=0").items == ItemsQuery("max", 0)
    assert ask("items&max_id=9").items == ItemsQuery("max", 9)
    assert ask("items&with_ids=3,1,x,3,,-2,0, 5").items == ItemsQuery("with", ids=(3, 1, 5))


def test_hostile_item_parameters_are_read_as_harmless_pages():
    assert ask("items&since_id=abc").items == ItemsQuery("since", 0)
    assert ask("items&since_id=99999999999").items == ItemsQuery("since", MAX_ID)
    assert ask("items&since_id=" + "9" * 400).items == ItemsQuery("since", 0)
    assert ask("items&max_id=-5").items == ItemsQuery("max", 0)
    assert ask("items&max_id=99999999999").items == ItemsQuery("max", 0)
    many = ",".join(str(i) for i in range(1, 500))
    assert ask(f"items&with_ids={many}").items.ids == tuple(range(1, ITEMS_PER_PAGE + 1))
    assert ask(f"items&with_ids={MAX_ID + 1},{MAX_ID}").items.ids == (MAX_ID,)


def test_marks():
    assert ask("mark=item&as=read&id=5").mark == Mark("item", "read", 5)
    assert ask("mark=ITEM&as=Saved&id=5").mark == Mark("item", "saved", 5)
    assert ask("mark=item&as=unsaved&id=5").mark == Mark("item", "unsaved", 5)
    assert ask("mark=feed&as=read&id=2&before=1700000000").mark == Mark("feed", "read", 2, 1700000000)
    assert ask("mark=group&as=read&id=0&before=1700000000.75").mark == Mark("group", "read", 0, 1700000000)
    assert ask("mark=group&as=read&id=3&before=0").mark == Mark("group", "read", 3, None)
    assert ask("mark=group&as=read&id=3").mark == Mark("group", "read", 3, None)
    assert ask("mark=feed&as=read&id=2&before=999999999999").mark == Mark("feed", "read", 2, LAST_SECOND)


def test_marks_the_protocol_does_not_have_mark_nothing():
    for query in ("mark=item&as=read", "mark=item&as=read&id=0", "mark=item&as=read&id=x", "mark=item&as=starred&id=1",
                  "mark=feed&as=unread&id=1", "mark=feed&as=saved&id=1", "mark=feed&as=read&id=0",
                  "mark=story&as=read&id=1", f"mark=item&as=read&id={MAX_ID + 1}", "mark=item&as=read&id=-1",
                  "mark=feed&as=read&id=1&before=yesterday", "mark=feed&as=read&id=1&before=-5", "as=read&id=1"):
        assert ask(query).mark is None, query


def test_the_first_value_counts_and_nul_is_left_out():
    asked = parse_request([("api_key", "x\x00"), ("mark", "item"), ("mark", "feed"), ("as", "read"), ("id", "4")])
    assert asked.api_key is None and asked.mark == Mark("item", "read", 4)


def test_urlencoded_and_multipart_forms():
    assert form_pairs("application/x-www-form-urlencoded", f"api_key={KEY}&mark=item".encode()) == [
        ("api_key", KEY), ("mark", "item")]
    assert form_pairs("", b"") == []
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\n" + KEY.encode() + b"\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"as\"\r\n\r\nr\xc3\xa9ad\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"a.txt\"\r\n\r\nfile\r\n"
            b"--XyZ--\r\n")
    assert form_pairs("multipart/form-data; boundary=XyZ", body) == [("api_key", KEY), ("as", "réad")]


def test_broken_multipart_bodies_give_no_fields():
    assert form_pairs("multipart/form-data", b"--x\r\n\r\n") == []
    assert form_pairs("multipart/form-data; boundary=a", b"garbage without boundaries") == []
    nested = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(3000))
    assert form_pairs("multipart/form-data; boundary=b0", nested) == []
    assert form_pairs("multipart/form-data; boundary=\"\r\nX-Evil: 1", b"--x--") == []


@given(st.lists(st.tuples(st.sampled_from(["api_key", "items", "since_id", "max_id", "with_ids", "mark", "as",
                                           "id", "before", "groups"]), st.text(max_size=40)), max_size=12))
def test_any_parameters_parse(pairs):
    asked = parse_request(pairs)
    assert 0 <= asked.items.id <= MAX_ID and len(asked.items.ids) <= ITEMS_PER_PAGE
    assert asked.mark is None or 0 <= asked.mark.id <= MAX_ID


@given(st.binary(max_size=300), st.text(max_size=60))
def test_any_body_parses(body, content_type):
    assert isinstance(form_pairs(content_type, body), list)
    assert isinstance(form_pairs("multipart/form-data; boundary=" + content_type, body), list)


# -- answers

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def source(ident: int, category: str | None, fetched: datetime | None = None) -> Source:
    return Source(id=ident, feed_url=f"https://example.test/{ident}.xml", name=f"Outlet {ident}",
                  site_url=f"https://example.test/{ident}/" if ident % 2 else None, category=category,
                  last_fetched_at=fetched)


def article(**changes: object) -> Article:
    fields: dict[str, object] = dict(
        id=7, source_id=2, source_name="Outlet 2", guid="g", url="https://example.test/a", title="Harbour <b>",
        authors=("Ada Moreau", "Liam Okafor"), published_at=AT, published_estimated=False, updated_at=None,
        first_seen_at=AT, summary="A summary & more", snippet="snip")
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


def test_refused_and_base_answers():
    assert answers.refused() == {"api_version": 3, "auth": 0}
    assert answers.base([]) == {"api_version": 3, "auth": 1, "last_refreshed_on_time": 0}
    sources = [source(1, None, AT), source(2, None), source(3, None, datetime(2026, 1, 1, tzinfo=timezone.utc))]
    assert answers.base(sources)["last_refreshed_on_time"] == int(AT.timestamp())


def test_groups_are_full_category_paths_and_uncategorized():
    sources = [source(1, "News/Canada"), source(2, "News"), source(3, None), source(4, "News/Canada"),
               source(5, "  ")]
    groups = answers.Groups.of(sources)
    titles = {g["title"]: g["id"] for g in groups.groups()}
    assert set(titles) == {"News/Canada", "News", "Uncategorized"}
    assert all(0 < ident <= MAX_ID for ident in titles.values())
    members = {fg["group_id"]: fg["feed_ids"] for fg in groups.feeds_groups()}
    assert members == {titles["News/Canada"]: "1,4", titles["News"]: "2", titles["Uncategorized"]: "3,5"}
    assert groups.feeds_in(titles["News/Canada"]) == (1, 4) and groups.feeds_in(12345) == ()
    # a group keeps its id when other categories come and go
    assert answers.Groups.of([source(9, "News")]).ids["News"] == titles["News"]


def test_group_ids_stay_distinct_when_titles_collide():
    ids = answers.group_ids(["plumless", "buckeroo"])  # a known CRC-32 collision
    assert len(set(ids.values())) == 2


def test_feed_and_favicon():
    assert answers.feed(source(3, "News", AT)) == {
        "id": 3, "favicon_id": 1, "title": "Outlet 3", "url": "https://example.test/3.xml",
        "site_url": "https://example.test/3/", "is_spark": 0, "last_updated_on_time": int(AT.timestamp())}
    assert answers.feed(source(2, None))["site_url"] == "" and answers.feed(source(2, None))["last_updated_on_time"] == 0
    [icon] = answers.favicons()
    assert icon["id"] == 1 and icon["data"].startswith("image/gif;base64,")


def test_items():
    assert answers.item(article(content_html="<p>Body</p>"), True, False) == {
        "id": 7, "feed_id": 2, "title": "Harbour <b>", "author": "Ada Moreau, Liam Okafor", "html": "<p>Body</p>",
        "url": "https://example.test/a", "is_saved": 0, "is_read": 1, "created_on_time": int(AT.timestamp())}
    assert answers.item(article(page_html="<p>Full</p>", content_html="<p>x</p>"), False, True)["html"] == "<p>Full</p>"
    assert answers.item(article(), False, True)["html"] == "<p>A summary &amp; more</p>"
    bare = answers.item(article(url=None, authors=(), summary="", snippet=""), False, False)
    assert (bare["html"], bare["url"], bare["author"], bare["is_saved"]) == ("", "", "", 0)
    assert answers.id_list([3, 2, 1]) == "3,2,1" and answers.id_list([]) == ""
