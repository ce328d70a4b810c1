"""The FastAPI application factory: it wires the web edge's modules together.

    view       templates, the wire item view model          (no routes)
    errors     the one error boundary                        (exception handlers)
    headers    security headers on every response            (middleware)
    hosts      allowed Host headers (DNS rebinding)           (middleware)
    origin     cross-site check on every state-changing request (middleware)
    head, inputs   HEAD wherever GET; NUL refused at the edge  (middleware)
    queries    the listings a page and its JSON twin share
    wire_pages the wire, source, author, article, search pages
    admin      the sources admin and its forms;  admin_api  the same changes as JSON (Bearer)
    identity   who is asking (session cookie or Bearer token)  (middleware)
    csrf       form tokens on every change made with a session  (middleware)
    auth       who may read and who may change                 (dependencies)
    account_pages  sign in and out, the first-run link, API tokens, a password change
    user_admin     the admin's page for accounts (/users)
    stories    story pages and story feeds
    reader     each reader's own state: read, saved, mute/follow (reader_view: its marks on pages)
    live       the live wire (SSE)
    api, feeds, ops   JSON API, feeds out, health and metrics (feed_cache: rendered feeds kept)
    sync.greader   the Google Reader API for reader apps (/api/greader, /api/greader.php)
    sync.fever     the Fever API for reader apps (/fever/, /api/fever.php)

The store and the settings hang off ``app.state`` so every route reads through the same
``Store`` and the same frozen ``Settings``.
"""

from __future__ import annotations

from typing import Iterable
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from newswire import __version__
from newswire.config import DEFAULTS, Settings
from newswire.store import Store
from newswire.sync import fever, greader
from newswire.web import account_pages, admin, admin_api, api, errors, feeds, live, media, ops, stories
from newswire.web import admin_edit, admin_opml, reader, user_admin, wire_pages
from newswire.web.auth import ADMINS, READERS, require_admin
from newswire.web.csrf import CsrfCheck
from newswire.web.display import display_zone
from newswire.web.feed_cache import FeedCache
from newswire.web.head import HeadAsGet
from newswire.web.headers import SecurityHeaders
from newswire.web.hosts import HostCheck, HostPolicy
from newswire.web.identity import Identify
from newswire.web.inputs import RefuseNul
from newswire.web.origin import CrossSiteCheck
from newswire.web.view import STATIC_DIR


def create_app(store: Store, settings: Settings = DEFAULTS, *, timezone: ZoneInfo | None = None,
               bound_hosts: Iterable[str] = ()) -> FastAPI:
    """The web app over ``store``, as ``settings`` say. Times are shown in ``timezone`` (default:
    the settings' zone, else the machine's zone); the store keeps UTC. ``bound_hosts``: the
    addresses the server listens on, which requests may name as their Host when
    ``settings.allowed_hosts`` is empty (see ``hosts``)."""
    app = FastAPI(title="Newswire", version=__version__, docs_url=None, redoc_url=None,  # their UIs load a CDN
                  description="A self-hostable newswire: the latest articles from every followed source.")
    app.state.store = store
    app.state.settings = settings
    app.state.zone = timezone or display_zone(settings.timezone)
    app.state.feed_cache = FeedCache()  # this process's rendered feeds out (feed_cache)
    for router in (ops.router, account_pages.router, greader.router,
                   fever.router, reader.router):  # reader: each signed-in user's own state
        app.include_router(router)
    # Reading: open on a public newswire, else signed in; changing sources: admins only.
    for router in (api.router, feeds.router, wire_pages.router, stories.feed_router, stories.router,
                   live.router, media.router):
        app.include_router(router, dependencies=READERS)
    for router in (admin.router, admin_edit.router, admin_opml.router):
        app.include_router(router, dependencies=ADMINS)
    app.include_router(user_admin.router, dependencies=[Depends(require_admin)])  # seeing accounts too
    app.include_router(admin_api.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    errors.install(app)  # innermost: the middleware below wraps its answers too
    app.add_middleware(RefuseNul)
    app.add_middleware(HeadAsGet)
    hosts = HostPolicy.of(settings, bound_hosts)
    app.add_middleware(CsrfCheck)
    app.add_middleware(CrossSiteCheck, settings=settings, policy=hosts)
    app.add_middleware(Identify)
    app.add_middleware(HostCheck, policy=hosts)
    app.add_middleware(SecurityHeaders, settings=settings)  # outermost: on every answer, refusals too
    return app
