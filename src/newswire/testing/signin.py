"""Signing a test client in, as a browser would be after /login: a real account, a real session
cookie, and the page's CSRF token sent as ``X-CSRF-Token`` on every request (forms may also
carry it as ``csrf_token``)."""

from __future__ import annotations

import re
from typing import Any

from newswire import accounts
from newswire.models import User
from newswire.store import Store
from newswire.web.identity import SESSION_COOKIE

PASSWORD = "test password"
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def sign_in(client: Any, store: Store, name: str = "admin", *, admin: bool = True) -> User:
    """Make (or reuse) the account ``name`` and sign ``client`` (a TestClient or an
    httpx.Client on the app) in as it; returns the user."""
    user = accounts.find_user(store, name) or accounts.create_user(store, name, PASSWORD, admin=admin)
    client.cookies.set(SESSION_COOKIE, accounts.start_session(store, user))
    client.headers["X-CSRF-Token"] = page_csrf_token(client)
    return user


def page_csrf_token(client: Any) -> str:
    """The form token the signed-in client's pages carry."""
    found = _META.search(client.get("/settings").text)
    if not found:
        raise AssertionError("no csrf-token on /settings: is the client signed in?")
    return found.group(1)
