"""The FastAPI application factory.

One app serves pages, API, feeds and operations endpoints; each lives in its own module with
its own router. The store and display settings hang off ``app.state`` so every route reads
through the same ``Store``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import FastAPI

from newswire import __version__
from newswire.config import DEFAULTS, Settings
from newswire.store import Store
from newswire.web import api, feeds, ops, pages, stories
from newswire.web.display import display_zone


def create_app(store: Store, settings: Settings = DEFAULTS, *, timezone: ZoneInfo | None = None) -> FastAPI:
    """The web app over ``store``, as ``settings`` say. Times are shown in ``timezone`` (default:
    the settings' zone, else the machine's zone); the store keeps UTC."""
    app = FastAPI(title="Newswire", version=__version__,
                  description="A self-hostable newswire: the latest articles from every followed source.")
    app.state.store = store
    app.state.settings = settings
    app.state.zone = timezone or display_zone(settings.timezone)
    for module in (ops, api, feeds, pages):
        app.include_router(module.router)
    app.include_router(stories.feed_router)
    app.include_router(stories.router)
    pages.install(app)
    return app
