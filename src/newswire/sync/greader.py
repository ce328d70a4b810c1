"""The Google Reader API, as FreshRSS and Miniflux serve it, for Reeder, NetNewsWire, Read You,
FeedMe, NewsFlash and the like. Served under ``/api/greader`` and, for apps that assume
FreshRSS, under ``/api/greader.php``:

    accounts/ClientLogin                      Email, Passwd → SID/LSID/Auth    (greader_auth)
    reader/api/0/token | user-info            the write token T; who is signed in
    reader/api/0/subscription/list | tag/list | unread-count
    reader/api/0/stream/contents/<stream>     one page of items         (n, c, ot, nt, xt, it, r=o)
    reader/api/0/stream/items/ids             the same page, ids only
    reader/api/0/stream/items/contents        items by id (i=, long or short, repeated)
    reader/api/0/edit-tag                     a=/r= read, starred, kept-unread       (POST, T)
    reader/api/0/mark-all-as-read             s=, ts= microseconds                   (POST, T)
    reader/api/0/subscription/quickadd|edit   follow, unfollow, rename, move: admins  (POST, T)

    request ─► Params (query + form) ─► thread: sign-in check, T check ─► Store ─► greader_shapes ─► JSON

Each endpoint is a plain function of a ``Call`` run on a worker thread (the store is synchronous);
bad parameters raise ``ValueError`` and answer 400, auth failures 401, non-admins 403, all
written by the app's one error boundary. Item ids are article ids; feeds are ``feed/<source id>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from newswire.errors import FetchError, ParseError, SourceExistsError
from newswire.models import Source, User
from newswire.store import Store
from newswire.sync import greader_auth as auth
from newswire.sync.greader_ids import (KEPT_UNREAD, READ, READING_LIST, STARRED, Stream, feed_stream_id,
                                       normalise_user, parse_item_id, parse_stream)
from newswire.sync.greader_params import MAX_BODY_BYTES, Params, StreamQuery, microseconds, stream_query
from newswire.sync.greader_shapes import KeptCountAnswers, item_json, subscription_json, tag_list
from newswire.web.errors import BadRequest, WebError
from newswire.web.state import settings_of, store_of

BASES = ("/api/greader", "/api/greader.php")
MAX_PAGE = 1000          # items in one stream/contents page
MAX_IDS = 1000           # ids in one stream/items/ids page (the store's most)
MAX_EDITS = 10_000       # ids in one edit-tag
MAX_CONTENTS = 1000      # ids in one stream/items/contents
MAX_FEED_URL = 2048
MAX_TITLE = 500          # a feed's title or category path, as the admin API takes them

router = APIRouter(include_in_schema=False)
_counts_answers = KeptCountAnswers()


@dataclass(frozen=True)
class Call:
    """One signed-in request: the store, its parameters, its user."""

    store: Store
    params: Params
    user: User
    request: Request


Handler = Callable[[Call], Response]


# the edge: parameters, sign-in, write token, errors

async def read_params(request: Request) -> Params:
    """The query string and, for a POST, its urlencoded body (at most ``MAX_BODY_BYTES``)."""
    body = b""
    if request.method == "POST":
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise WebError(413, "The request is larger than this API accepts.")
    try:
        return Params.parse(request.url.query, body)
    except ValueError as error:
        raise BadRequest(f"invalid parameters: {error}") from None


def write_secret(request: Request) -> str:
    """The server secret write tokens are signed with, read once per app."""
    secret = getattr(request.app.state, "greader_secret", None)
    if secret is None:
        secret = request.app.state.greader_secret = store_of(request).server_secret(auth.WRITE_TOKEN_SECRET)
    return secret


def signed_in(request: Request, params: Params, *, write: bool) -> Call:
    """The call, once its login token (and, for a write, its T) checks out. Raises 401."""
    token = auth.login_token(request)
    user = auth.user_of(store_of(request), token)
    if write:
        auth.check_write_token(write_secret(request), token, params.first("T"))
    return Call(store_of(request), params, user, request)


def endpoint(handler: Handler, *, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """A route that reads the parameters, then signs in and runs ``handler`` on a thread."""
    async def route(request: Request) -> Response:
        params = await read_params(request)

        def run() -> Response:
            call = signed_in(request, params, write=write)
            try:
                return handler(call)
            except BadRequest:
                raise
            except (ValueError, OverflowError) as error:  # what a client sent (ids, streams, cursors)
                raise BadRequest(f"invalid parameters: {error}") from None
        return await run_in_threadpool(run)
    route.__name__ = f"greader_{handler.__name__}"
    return route


def require_admin(call: Call) -> None:
    if not call.user.is_admin:
        raise WebError(403, "Only an admin may change the sources.")


def ok() -> PlainTextResponse:
    return PlainTextResponse("OK")


# sign-in

async def client_login(request: Request) -> Response:
    """ClientLogin: the token as ``SID=…``, ``LSID=…``, ``Auth=…`` lines (JSON with output=json)."""
    params = await read_params(request)
    address = request.client.host if request.client else ""
    token = await run_in_threadpool(auth.sign_in, store_of(request), params.first("Email"),
                                    params.first("Passwd"), address)
    if params.first("output") == "json":
        return JSONResponse({"SID": token, "LSID": token, "Auth": token})
    return PlainTextResponse(f"SID={token}\nLSID={token}\nAuth={token}\n")


def token(call: Call) -> Response:
    return PlainTextResponse(auth.write_token(write_secret(call.request), auth.login_token(call.request)) + "\n")


def user_info(call: Call) -> Response:
    user = call.user
    return JSONResponse({"userId": str(user.id), "userName": user.name, "userProfileId": str(user.id),
                         "userEmail": "", "isBloggerUser": False,
                         "signupTimeSec": int(user.created_at.timestamp()), "isMultiLoginEnabled": False})


# lists

def _feeds(call: Call) -> list[Source]:
    """The followed feeds, without counting each one's articles (apps ask many times a minute)."""
    return call.store.list_sources(with_counts=False)


def subscription_list(call: Call) -> Response:
    return JSONResponse({"subscriptions": [subscription_json(s) for s in _feeds(call)]})


def tags(call: Call) -> Response:
    return JSONResponse(tag_list(_feeds(call)))


def unread_count(call: Call) -> Response:
    store = call.store
    with store.snapshot():  # its three reads: one transaction
        body = _counts_answers.body(call.user.id, store.source_categories(), store.unread_counts(call.user.id),
                                    store.newest_by_source())
    return Response(body, media_type="application/json")


# streams

def resolve(store: Store, stream: Stream) -> Stream | None:
    """``feed/<feed URL>`` as ``feed/<source id>``; None when no source follows that URL."""
    if stream.feed_url is None:
        return stream
    found = store.find_source(stream.feed_url)
    return Stream("feed", source_id=found.id) if found else None


def sync_filter(store: Store, query: StreamQuery) -> dict[str, Any] | None:
    """``items_for_sync``'s filters for a stream query; None when nothing can match."""
    stream = resolve(store, query.stream)
    read_only = query.stream.kind == "read" or query.only_read
    if stream is None or read_only and query.exclude_read:
        return None
    return dict(source_id=stream.source_id, category=stream.label,
                saved_only=stream.kind == "starred" or query.only_starred,
                read_only=read_only, unread_only=query.exclude_read,
                newer_than=query.newer_than, older_than=query.older_than, oldest_first=query.oldest_first,
                before_cursor=query.continuation, limit=query.limit)


def page_of(call: Call, query: StreamQuery) -> tuple[list[int], str | None]:
    filters = sync_filter(call.store, query)
    if filters is None:
        return [], None
    return call.store.items_for_sync(call.user.id, **filters)


def items_of(call: Call, article_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The items for these ids, in their order, with the reader's states; unknown ids skipped."""
    articles = call.store.get_articles(article_ids)
    states = call.store.article_states(call.user.id, [a.id for a in articles])
    sources: dict[int, Source] = {}
    for source_id in {a.source_id for a in articles}:
        sources[source_id] = call.store.get_source(source_id)
    return [item_json(a, sources.get(a.source_id), *states.get(a.id, (False, False))) for a in articles]


def stream_document(stream_id: str, items: list[dict[str, Any]], continuation: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {"id": stream_id, "updated": int(datetime.now(timezone.utc).timestamp()),
                                "items": items}
    if continuation:
        document["continuation"] = continuation
    return document


def stream_contents_of(call: Call, stream_id: str) -> Response:
    query = stream_query(call.params, stream_id, default=20, most=MAX_PAGE)
    ids, continuation = page_of(call, query)
    return JSONResponse(stream_document(normalise_user(stream_id), items_of(call, ids), continuation))


def stream_contents(call: Call) -> Response:
    """stream/contents/<stream>, or stream/contents?s=<stream>."""
    stream_id = call.request.path_params.get("stream") or call.params.first("s") or READING_LIST
    return stream_contents_of(call, stream_id)


def item_ids(call: Call) -> Response:
    query = stream_query(call.params, call.params.first("s") or "", default=20, most=MAX_IDS)
    ids, continuation = page_of(call, query)
    document: dict[str, Any] = {"itemRefs": [{"id": str(i), "directStreamIds": []} for i in ids]}
    if continuation:
        document["continuation"] = continuation
    return JSONResponse(document)


def item_ids_param(call: Call, most: int) -> list[int]:
    """The ``i`` ids, parsed; 400 when there are none or more than ``most``."""
    values = call.params.all("i")
    if not values or len(values) > most:
        raise ValueError(f"i: give between 1 and {most} item ids")
    return list(dict.fromkeys(parse_item_id(v) for v in values))


def items_contents(call: Call) -> Response:
    ids = item_ids_param(call, MAX_CONTENTS)
    return JSONResponse(stream_document(READING_LIST, items_of(call, ids), None))


# changes

def edit_tag(call: Call) -> Response:
    """Add (a=) or remove (r=) the read, starred and kept-unread states; labels on items are not
    kept here, so they are ignored, as are states this server does not have."""
    ids = item_ids_param(call, MAX_EDITS)  # ids no article has are ignored by the store
    added = {normalise_user(v) for v in call.params.all("a")}
    removed = {normalise_user(v) for v in call.params.all("r")}
    if READ in added:
        call.store.mark_read(call.user.id, ids, True)
    if READ in removed or KEPT_UNREAD in added:
        call.store.mark_read(call.user.id, ids, False)
    if STARRED in added:
        call.store.set_saved(call.user.id, ids, True)
    if STARRED in removed:
        call.store.set_saved(call.user.id, ids, False)
    return ok()


def mark_all_as_read(call: Call) -> Response:
    """Everything in the stream s= first seen up to ts= (microseconds; default now) becomes read."""
    stream = resolve(call.store, parse_stream(call.params.first("s") or ""))
    up_to = microseconds(call.params.first("ts"), "ts") or datetime.now(timezone.utc)
    if stream is not None and stream.kind == "starred":
        raise ValueError("s: marking every starred item read is not supported")
    if stream is not None and stream.kind != "read":
        call.store.mark_all_read(call.user.id, source_id=stream.source_id, category=stream.label, up_to=up_to)
    return ok()


# subscriptions (admins)

def feed_url_param(value: str | None) -> str:
    """A feed URL from ``quickadd=`` or ``s=feed/<url>``; 400 unless it is http(s)."""
    url = (value or "").strip().removeprefix("feed/")
    if not url.startswith(("http://", "https://")) or len(url) > MAX_FEED_URL:
        raise BadRequest("invalid parameters: give an http(s) feed URL")
    return url


async def follow(request: Request, url: str, name: str | None, category: str | None) -> Source:
    """Follow and fetch at once, as the sources page does; an existing feed is not an error."""
    from newswire.service.subscribe import follow_and_fetch

    try:
        source, _ = await follow_and_fetch(store_of(request), settings_of(request), url, name=name,
                                           category=category,
                                           requests=getattr(request.app.state, "refresh_requests", None))
        return source
    except SourceExistsError as exists:
        if exists.source_id is None:
            raise
        return await run_in_threadpool(store_of(request).get_source, exists.source_id)
    except (FetchError, ParseError) as error:
        raise BadRequest(f"cannot follow {url}: {error}") from None


async def admin_call(request: Request) -> Call:
    params = await read_params(request)
    call = await run_in_threadpool(signed_in, request, params, write=True)
    require_admin(call)
    return call


async def quickadd(request: Request) -> Response:
    call = await admin_call(request)
    source = await follow(request, feed_url_param(call.params.first("quickadd")), None, None)
    return JSONResponse({"numResults": 1, "query": source.feed_url, "streamId": feed_stream_id(source.id),
                         "streamName": source.name})


def label_param(values: list[str]) -> str | None:
    """The category a= or r= names (``user/-/label/<path>``), if any."""
    for value in values:
        try:
            stream = parse_stream(value)
        except ValueError:
            raise BadRequest(f"invalid parameters: {value[:80]!r} is not a label") from None
        if stream.kind == "label":
            return stream.label
    return None


async def subscription_edit(request: Request) -> Response:
    """ac=subscribe (s=feed/<url>, t= title, a= label), ac=unsubscribe (s=feed/…),
    ac=edit (s=feed/…, t= new title, a= the label to move to, r= the label to leave)."""
    call = await admin_call(request)
    action = call.params.first("ac") or "edit"
    streams = call.params.all("s")
    if not streams:
        raise BadRequest("invalid parameters: s: name a feed")
    if action == "subscribe":
        for value in streams:
            await follow(request, feed_url_param(value), call.params.first("t") or None,
                         label_param(call.params.all("a")))
        return ok()
    if action == "unsubscribe":
        await run_in_threadpool(unsubscribe, call.store, streams)
        return ok()
    if action == "edit":
        await run_in_threadpool(edit, call, streams)
        return ok()
    raise BadRequest(f"invalid parameters: ac: {action[:40]!r} is not supported here")


def feed_ids(store: Store, streams: list[str]) -> list[int]:
    """The sources ``s=feed/…`` name. Raises 400 for a stream that is not a feed, 404 for a feed
    no source follows."""
    found = []
    for value in streams:
        try:
            stream = parse_stream(value)
        except ValueError as error:
            raise BadRequest(f"invalid parameters: {error}") from None
        resolved = resolve(store, stream) if stream.kind == "feed" else None
        if resolved is None or resolved.source_id is None:
            raise WebError(404 if stream.kind == "feed" else 400, f"no feed {value[:80]!r} here")
        found.append(store.get_source(resolved.source_id).id)  # NotFound: 404
    return found


def unsubscribe(store: Store, streams: list[str]) -> None:
    for source_id in feed_ids(store, streams):
        store.remove_source(source_id)


def edit(call: Call, streams: list[str]) -> None:
    """Rename (t=) and move (a= a label, or r= to leave one) the feeds named."""
    changes: dict[str, Any] = {}
    title = (call.params.first("t") or "").strip()
    moved_to, left = label_param(call.params.all("a")), label_param(call.params.all("r"))
    if len(title) > MAX_TITLE or len(moved_to or "") > MAX_TITLE:
        raise BadRequest(f"invalid parameters: a title or label has at most {MAX_TITLE} characters")
    if title:
        changes["name"] = title
    if moved_to or left:
        changes["category"] = moved_to
    for source_id in feed_ids(call.store, streams):
        if changes:
            call.store.change_source(source_id, changes)


# the routes, under each base

READS: dict[str, Handler] = {
    "reader/api/0/token": token,
    "reader/api/0/user-info": user_info,
    "reader/api/0/subscription/list": subscription_list,
    "reader/api/0/tag/list": tags,
    "reader/api/0/unread-count": unread_count,
    "reader/api/0/stream/contents": stream_contents,
    "reader/api/0/stream/contents/{stream:path}": stream_contents,
    "reader/api/0/stream/items/ids": item_ids,
    "reader/api/0/stream/items/contents": items_contents,
}
WRITES: dict[str, Handler] = {
    "reader/api/0/edit-tag": edit_tag,
    "reader/api/0/mark-all-as-read": mark_all_as_read,
}
ADMIN: dict[str, Callable[[Request], Awaitable[Response]]] = {
    "reader/api/0/subscription/quickadd": quickadd,
    "reader/api/0/subscription/edit": subscription_edit,
}

for _base in BASES:
    router.add_api_route(f"{_base}/accounts/ClientLogin", client_login, methods=["GET", "POST"])
    for _path, _handler in READS.items():
        router.add_api_route(f"{_base}/{_path}", endpoint(_handler), methods=["GET", "POST"])
    for _path, _handler in WRITES.items():
        router.add_api_route(f"{_base}/{_path}", endpoint(_handler, write=True), methods=["POST"])
    for _path, _route in ADMIN.items():
        router.add_api_route(f"{_base}/{_path}", _route, methods=["POST"])
