"""Fever API requests: what a client asks for, read from the query string and the form alike.

Fever clients post ``api_key`` and the ``mark`` fields in a form (urlencoded, a few multipart)
and put the selectors (``api``, ``items``, ``since_id`` …) in the query string; some put
everything in one or the other. So both are read, the query string first, as FreshRSS's
``$_REQUEST`` and Miniflux's ``FormValue`` do.

    form_pairs       an urlencoded or multipart/form-data body as (name, value) pairs
    parse_request    the pairs as a ``FeverRequest``: the key, the sections asked for, which
                     page of items (``ItemsQuery``), and a ``Mark`` to apply first

Pure, no I/O. Fever has no error answer other than ``auth: 0``, so nothing a client sends is
an error here: a value that is not what the protocol describes is ignored, as the reference
servers ignore it (a malformed ``id`` marks nothing, a malformed ``since_id`` is 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Literal, Sequence
from urllib.parse import parse_qsl

from newswire.store.tables import MAX_ID

MAX_BODY_BYTES = 64 * 1024  # a key, a mark, an id and a time: far less in practice
ITEMS_PER_PAGE = 50  # the protocol's page, and its limit on with_ids
LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds

SECTIONS = ("groups", "feeds", "favicons", "items", "links", "unread_item_ids", "saved_item_ids")
ITEM_STATES = ("read", "unread", "saved", "unsaved")
_NUMBER = re.compile(r"[0-9]{1,12}")
_SECONDS = re.compile(r"([0-9]{1,12})(?:\.[0-9]*)?")
_API_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class ItemsQuery:
    """Which page of items: ``since`` ids above ``id``, oldest first; ``max`` ids below ``id``
    (the newest when 0), newest first; ``with`` exactly ``ids`` (at most 50)."""

    kind: Literal["since", "max", "with"] = "since"
    id: int = 0
    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Mark:
    """``mark=item`` sets one article's state; ``mark=feed``/``mark=group`` (``as=read``) mark
    what was first seen up to ``before`` (Unix seconds; None: everything) read. Group 0 is
    Fever's "Kindling": every feed."""

    target: Literal["item", "feed", "group"]
    state: Literal["read", "unread", "saved", "unsaved"]
    id: int
    before: int | None = None


@dataclass(frozen=True, slots=True)
class FeverRequest:
    """One request: ``api_key`` lower-case (None when absent or not an md5 hex digest), the
    sections asked for (any of ``SECTIONS``), the items page, and a mark to apply first."""

    api_key: str | None
    sections: frozenset[str]
    items: ItemsQuery = ItemsQuery()
    mark: Mark | None = None


def form_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """The fields of a form body: multipart/form-data when the type says so (files left out),
    urlencoded otherwise; a body that is neither yields what can be read of it, maybe nothing."""
    if not body:
        return []
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        return _multipart_pairs(content_type, body)
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _multipart_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    header = re.sub(r"[\r\n]", " ", content_type).encode("latin-1", "replace")
    try:
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + body)
        parts = list(message.iter_parts()) if message.is_multipart() else []
        pairs = []
        for part in parts:
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str) and part.get_filename() is None and not part.is_multipart():
                payload = part.get_payload(decode=True)
                pairs.append((name, payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""))
        return pairs
    except Exception:  # the stdlib parser's ways to fail on a crafted body (deep nesting…): no form
        return []


def parse_request(pairs: Sequence[tuple[str, str]]) -> FeverRequest:
    """What ``pairs`` (query string first, then the form) ask for; the first value of a name
    counts, values with NUL are left out (no stored text can hold them)."""
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" not in name + value:
            fields.setdefault(name, value)
    key = fields.get("api_key", "").strip().lower()
    return FeverRequest(
        api_key=key if _API_KEY.fullmatch(key) else None,
        sections=frozenset(name for name in SECTIONS if name in fields),
        items=items_query(fields),
        mark=parse_mark(fields),
    )


def number(value: str | None) -> int | None:
    """A non-negative whole number, or None when ``value`` is not one (or absurdly long)."""
    text = (value or "").strip()
    return int(text) if _NUMBER.fullmatch(text) else None


def items_query(fields: dict[str, str]) -> ItemsQuery:
    """``since_id``, else ``max_id``, else ``with_ids``, in the order Fever's description lists
    them; with none, the oldest page (``since_id=0``)."""
    if "since_id" in fields:
        return ItemsQuery("since", min(number(fields["since_id"]) or 0, MAX_ID))
    if "max_id" in fields:
        below = number(fields["max_id"]) or 0
        return ItemsQuery("max", 0 if below > MAX_ID else below)
    if "with_ids" in fields:
        wanted = (number(part) for part in fields["with_ids"].split(",")[:ITEMS_PER_PAGE * 4])
        ids = dict.fromkeys(i for i in wanted if i is not None and 0 < i <= MAX_ID)
        return ItemsQuery("with", ids=tuple(ids)[:ITEMS_PER_PAGE])
    return ItemsQuery()


def parse_mark(fields: dict[str, str]) -> Mark | None:
    """The mark asked for, or None when there is none or it is not one the protocol has
    (feeds and groups are only marked read; items and feeds have positive ids)."""
    target, state = fields.get("mark", "").strip().lower(), fields.get("as", "").strip().lower()
    ident = number(fields.get("id"))
    if target not in ("item", "feed", "group") or state not in ITEM_STATES or ident is None or ident > MAX_ID:
        return None
    if (target != "item" and state != "read") or (target != "group" and ident == 0):
        return None
    before: int | None = None
    if fields.get("before", "").strip():
        seconds = _SECONDS.fullmatch(fields["before"].strip())
        if seconds is None:
            return None  # a time we cannot read marks nothing, rather than everything
        before = min(int(seconds.group(1)), LAST_SECOND) or None  # 0: no limit, as FreshRSS takes it
    return Mark(target, state, ident, before)  # type: ignore[arg-type]
