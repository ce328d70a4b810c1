"""What every route reads off the app: the one ``Store`` and the one frozen ``Settings``,
both put on ``app.state`` by ``create_app``."""

from __future__ import annotations

from fastapi import Request

from newswire.config import Settings
from newswire.store import Store


def store_of(request: Request) -> Store:
    return request.app.state.store


def settings_of(request: Request) -> Settings:
    return request.app.state.settings
