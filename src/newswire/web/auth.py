"""Who may do what, as FastAPI dependencies over the identity ``identity.Identify`` found.

    require_user    a signed-in user (session or Bearer), for each reader's own state
    require_admin   a signed-in admin, for changing sources and users
    read_access     reading (pages, API, feeds, live): open when NEWSWIRE_PUBLIC=1, else a user
    change_access   read_access for safe methods, require_admin for the others: the sources
                    admin router's one guard

Refusals: an API, feed or other machine path gets 401 JSON; a page redirects (303) to
``/login?next=…``; a signed-in user who is not an admin gets 403. Until an admin exists, the
403 says how to make the first one (the link ``newswire run`` printed, or the CLI).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from newswire.models import User
from newswire.web.errors import WebError, wants_json
from newswire.web.identity import SAFE_METHODS, identified
from newswire.web.state import settings_of, store_of

NO_ADMIN_YET = ("Nothing can be changed here until an admin account exists: open the one-time link "
                "that `newswire run` printed, or run `newswire user add NAME --admin`.")


def sign_in_needed(request: Request) -> WebError:
    """401 JSON for machines; for a page, a 303 to the sign-in page that comes back here."""
    if wants_json(request.url.path) or request.method not in ("GET", "HEAD"):
        return WebError(401, "Sign in first: send Authorization: Bearer TOKEN (make one on /settings or "
                             "with `newswire user token NAME`).", headers={"WWW-Authenticate": "Bearer"})
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return WebError(303, "Sign in to read this newswire.", headers={"Location": "/login?" + urlencode({"next": back})})


async def require_user(request: Request) -> User:
    """The signed-in user, or the refusal ``sign_in_needed`` makes. An ``async def`` on the
    event loop: FastAPI runs a plain ``def`` dependency on a worker thread, a hand-over that
    cost each page more than this check; a GET's pending identity is looked up off the loop
    (``identified``)."""
    user = await identified(request)
    if user is None:
        raise sign_in_needed(request)
    return user


async def require_admin(request: Request) -> User:
    """A signed-in admin; 401/redirect when anonymous, 403 otherwise."""
    user = await identified(request)
    if user is not None and user.is_admin:
        return user
    if not await run_in_threadpool(store_of(request).has_admin):
        raise WebError(403, NO_ADMIN_YET)
    if user is None:
        raise sign_in_needed(request)
    raise WebError(403, "Only an admin can change this.")


async def read_access(request: Request) -> User | None:
    """Reading is open on a public newswire (None: nobody needs to be looked up); otherwise it
    needs a signed-in user (``require_user``)."""
    if settings_of(request).public:
        return None  # open to all: who asks is looked up only where a page shows it
    return await require_user(request)


async def change_access(request: Request) -> User | None:
    if request.method in SAFE_METHODS:
        return await read_access(request)
    return await require_admin(request)


READERS = [Depends(read_access)]
ADMINS = [Depends(change_access)]
