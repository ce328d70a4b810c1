"""The Fever API, as Reeder, Unread, Fiery Feeds and other reader apps speak it.

Served at ``/fever/`` (the base the README names; apps are given ``…/fever/``) and at FreshRSS's
``/api/fever.php``, by GET and POST, with or without ``?api``:

    request ─► fever_params.parse_request (query string, then the form)
            ─► answer(): the key (md5 of "name:password") names a user, else {"auth": 0} and nothing else
                         a mark is applied first (item read/unread/saved/unsaved; feed or group read
                         up to ``before``; group 0 is every feed), then each section asked for is added
            ─► JSON, never cached

The store is synchronous, so ``answer`` runs on a worker thread, never on the event loop. Each
reader's state (read, saved) is theirs: it comes from and goes to the ``Store``'s reader-state
methods under the key's user. Items are every stored article, syndicated copies included (each
is its own feed's item), paged by id as the protocol pages: ``since_id`` up, ``max_id`` down.
Fever POSTs come from apps, without Origin or Referer, so the cross-site check lets them by.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from newswire.accounts import user_for_fever_key
from newswire.models import Article, Source
from newswire.store import Store
from newswire.sync import fever_answers as answers
from newswire.sync.fever_params import ITEMS_PER_PAGE, MAX_BODY_BYTES, FeverRequest, ItemsQuery, Mark
from newswire.sync.fever_params import form_pairs, parse_request
from newswire.web.errors import WebError
from newswire.web.state import store_of

MAX_IDS = 50_000  # unread_item_ids / saved_item_ids: the newest this many

router = APIRouter(include_in_schema=False)


@router.api_route("/fever/", methods=["GET", "POST"])
@router.api_route("/fever", methods=["GET", "POST"])  # a base typed without its slash
@router.api_route("/api/fever.php", methods=["GET", "POST"])  # FreshRSS's path, which apps assume
async def fever(request: Request) -> JSONResponse:
    """One Fever API call: whatever it asks, the answer is a Fever JSON object."""
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        pairs += form_pairs(request.headers.get("content-type", ""), await read_body(request))
    result = await run_in_threadpool(answer, store_of(request), parse_request(pairs))
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


async def read_body(request: Request) -> bytes:
    """The request body, at most ``MAX_BODY_BYTES`` (413 past it: no Fever form is that big)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise WebError(413, "A Fever request is never this large.")
    return body


def answer(store: Store, asked: FeverRequest) -> dict[str, Any]:
    """The whole answer to ``asked``: the refusal for an unknown key, else the mark applied and
    the sections added. Raises StorageError (the app's boundary answers 503)."""
    user = user_for_fever_key(store, asked.api_key) if asked.api_key else None
    if user is None:
        return answers.refused()
    sources = store.list_sources(with_counts=False)
    sections = set(asked.sections)
    if asked.mark is not None:
        apply_mark(store, user.id, asked.mark, sources)
        # as FreshRSS does: the list the mark changed, so the client can check it took
        sections.add("unread_item_ids" if asked.mark.state in ("read", "unread") else "saved_item_ids")
    result = answers.base(sources)
    if "groups" in sections:
        groups = answers.Groups.of(sources)
        result.update(groups=groups.groups(), feeds_groups=groups.feeds_groups())
    if "feeds" in sections:
        result.update(feeds=[answers.feed(s) for s in sources], feeds_groups=answers.Groups.of(sources).feeds_groups())
    if "favicons" in sections:
        result["favicons"] = answers.favicons()
    if "items" in sections:
        result.update(total_items=store.article_count(), items=items(store, user.id, asked.items))
    if "links" in sections:
        result["links"] = []  # Fever's "Hot" links: Newswire has no such ranking
    if "unread_item_ids" in sections:
        result["unread_item_ids"] = answers.id_list(store.unread_ids(user.id, limit=MAX_IDS))
    if "saved_item_ids" in sections:
        result["saved_item_ids"] = answers.id_list(store.saved_ids(user.id, limit=MAX_IDS))
    return result


def items(store: Store, user_id: int, query: ItemsQuery) -> list[dict[str, Any]]:
    """The page of items ``query`` asks for, with this reader's read and saved flags."""
    if query.kind == "with":
        ids = list(query.ids)
    else:
        listed = (store.arrived_after(query.id, limit=ITEMS_PER_PAGE, include_copies=True) if query.kind == "since"
                  else store.arrived_before(query.id or None, limit=ITEMS_PER_PAGE, include_copies=True))
        ids = [a.id for a in listed]
    found: list[Article] = store.get_articles(ids) if ids else []
    states = store.article_states(user_id, [a.id for a in found]) if found else {}
    return [answers.item(a, *states.get(a.id, (False, False))) for a in found]


def apply_mark(store: Store, user_id: int, mark: Mark, sources: list[Source]) -> None:
    """Apply ``mark`` for the reader; a mark on an article, feed or group that does not exist
    does nothing (the answer is the same as for one that does, as in Fever)."""
    if mark.target == "item":
        if not store.get_articles([mark.id]):
            return
        if mark.state in ("read", "unread"):
            store.mark_read(user_id, [mark.id], mark.state == "read")
        else:
            store.set_saved(user_id, [mark.id], mark.state == "saved")
        return
    up_to = datetime.fromtimestamp(mark.before, timezone.utc) if mark.before is not None else None
    if mark.target == "group" and mark.id == 0:  # "Kindling": every feed
        store.mark_all_read(user_id, up_to=up_to)
        return
    feed_ids = answers.Groups.of(sources).feeds_in(mark.id) if mark.target == "group" else (
        (mark.id,) if any(s.id == mark.id for s in sources) else ())
    for source_id in feed_ids:  # a group's feeds one by one: its title is a category path, not a prefix
        store.mark_all_read(user_id, source_id=source_id, up_to=up_to)
