"""The admin's page for accounts: who can read and who can change things.

``/users`` lists every account and lets an admin add one, make a reader an admin or an admin a
reader, set someone's password (their sessions end) and remove an account. The app mounts this
router behind ``auth.ADMINS``, like the sources page. One admin must always remain: the last
one can be neither removed nor made a reader here (``LastAdminError``), or nobody could change
anything through the web again. Removing yourself signs you out with your sessions.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from newswire import accounts
from newswire.errors import NewswireError
from newswire.web.admin import as_sentence, flash_of, notice_redirect_later, read_form
from newswire.web.identity import current_user
from newswire.web.inputs import id_or_404
from newswire.web.state import store_of
from newswire.web.view import render_page

router = APIRouter(include_in_schema=False)


async def back_to_users(request: Request, kind: str, text: str) -> RedirectResponse:
    return await notice_redirect_later(request, "/users", kind, text)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, flash: str | None = None) -> HTMLResponse:
    return render_page(request, "users.html", {"users": accounts.list_users(store_of(request)),
                                               "notice": flash_of(request).pop(flash)})


@router.post("/users")
async def add_user(request: Request) -> Response:
    form = await read_form(request)
    name, password, admin = form.get("name", "").strip(), form.get("password", ""), bool(form.get("admin"))
    try:
        user = await run_in_threadpool(accounts.create_user, store_of(request), name, password, admin=admin)
    except NewswireError as error:
        return await back_to_users(request, "error", f"Could not add {name[:64]!r}: {as_sentence(error)}")
    role = "an admin" if user.is_admin else "a reader"
    return await back_to_users(request, "ok", f"Added {user.name} as {role}. Give them the password; they can "
                                        "change it on their settings page.")


async def _named(request: Request, user_id: str) -> str:
    """The name of the account a route's id names (404 when none)."""
    user = await run_in_threadpool(store_of(request).get_user, id_or_404(user_id, "user"))
    return user.name


@router.post("/users/{user_id}/admin")
async def make_admin(request: Request, user_id: str) -> Response:
    return await _set_role(request, user_id, admin=True)


@router.post("/users/{user_id}/reader")
async def make_reader(request: Request, user_id: str) -> Response:
    return await _set_role(request, user_id, admin=False)


async def _set_role(request: Request, user_id: str, *, admin: bool) -> Response:
    name = await _named(request, user_id)
    try:
        await run_in_threadpool(accounts.set_admin, store_of(request), name, admin)
    except NewswireError as error:
        return await back_to_users(request, "error", as_sentence(error))
    return await back_to_users(request, "ok", f"{name} is now {'an admin' if admin else 'a reader'}.")


@router.post("/users/{user_id}/password")
async def set_password(request: Request, user_id: str) -> Response:
    form = await read_form(request)
    name = await _named(request, user_id)
    try:
        await run_in_threadpool(accounts.set_password, store_of(request), name, form.get("password", ""))
    except NewswireError as error:
        return await back_to_users(request, "error", f"Could not set {name}'s password: {as_sentence(error)}")
    me = current_user(request)
    if me is not None and me.name == name:  # own sessions ended too: sign in again
        return RedirectResponse("/login?" + urlencode({"next": "/users"}), status_code=303)
    return await back_to_users(request, "ok", f"{name}'s password is set, and they are signed out everywhere.")


@router.post("/users/{user_id}/remove")
async def remove_user(request: Request, user_id: str) -> Response:
    name = await _named(request, user_id)
    try:
        await run_in_threadpool(accounts.remove_user, store_of(request), name, keep_an_admin=True)
    except NewswireError as error:
        return await back_to_users(request, "error", as_sentence(error))
    me = current_user(request)
    if me is not None and me.name == name:
        return RedirectResponse("/", status_code=303)
    return await back_to_users(request, "ok", f"Removed {name}, with their sessions and API tokens. "
                                        "What they read and saved is gone with them.")
