"""Signing in and out, the first-run page that makes the first admin, and each user's settings
page (API tokens).

- ``/login``: one answer for a wrong name and a wrong password; throttled sign-ins get 429 with
  ``Retry-After`` (``accounts.authenticate``). Success sets the session cookie (random, stored
  hashed; HttpOnly, SameSite=Lax, Secure when NEWSWIRE_BASE_URL is https) and goes to ``next``
  (a path on this site only).
- ``/setup/<token>``: while no admin exists, the process that serves (``newswire run``, ``serve``,
  ``demo``) prints this one-time link; its form makes the first admin and signs them in. The
  token lives in that process's memory (``app.state.setup_token``) and dies when used.
- ``/settings``: a signed-in user's API tokens: make one (shown once), revoke one; and a change
  of their own password, which ends every session (this browser gets a new one).

The sign-in and first-run forms are posted by browsers without a session, so they check the
anonymous CSRF token themselves (``identity``); the others are checked by ``csrf.CsrfCheck``.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from newswire import accounts
from newswire.models import User
from newswire.web.admin import as_sentence, read_form
from newswire.web.auth import require_user
from newswire.web.errors import WebError
from newswire.web.identity import ANON_COOKIE, CSRF_FIELD, SESSION_COOKIE, csrf_matches, load_csrf_secret
from newswire.web.identity import session_token
from newswire.web.inputs import id_or_404
from newswire.web.state import settings_of, store_of
from newswire.web.view import render_page

router = APIRouter(include_in_schema=False)


def secure_cookies(request: Request) -> bool:
    return settings_of(request).base_url.startswith("https://")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (``//evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(
            ord(c) < 32 for c in target):
        return "/"
    return target


def _with_anonymous_token(request: Request) -> str | None:
    """Give a browser without a session a CSRF cookie (for the sign-in and first-run forms);
    returns the new value to set, or None when it has one."""
    if request.cookies.get(ANON_COOKIE):
        return None
    value = secrets.token_urlsafe(24)
    load_csrf_secret(request)
    request.state.anon_csrf = value
    return value


def _anonymous_form(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    new_cookie = _with_anonymous_token(request)
    page = render_page(request, name, context, status)
    if new_cookie:
        page.set_cookie(ANON_COOKIE, new_cookie, httponly=True, samesite="lax", secure=secure_cookies(request),
                        path="/")
    return page


def _check_anonymous_form(request: Request, form: dict[str, str]) -> None:
    if not csrf_matches(request, form.get(CSRF_FIELD, "")):
        raise WebError(403, "This form has expired or did not come from this site. Reload the page and try again.")


def signed_in(request: Request, user: User, target: str) -> RedirectResponse:
    """Start a session for ``user`` and go to ``target``."""
    token = accounts.start_session(store_of(request), user)
    response = RedirectResponse(safe_next(target), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
                        httponly=True, samesite="lax", secure=secure_cookies(request), path="/")
    return response


# -- sign in, sign out

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _anonymous_form(request, "login.html", {"next": safe_next(next[:2000]), "name": ""})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    _check_anonymous_form(request, form)
    name, password, target = form.get("name", ""), form.get("password", ""), safe_next(form.get("next"))
    address = request.client.host if request.client else ""
    try:
        user = await run_in_threadpool(accounts.authenticate, store_of(request), name, password, address=address)
    except accounts.Throttled as throttled:
        page = _anonymous_form(request, "login.html", {
            "next": target, "name": name[:64],
            "error": f"Too many failed sign-ins. Try again in {throttled.retry_after_seconds // 60 + 1} minutes."}, 429)
        page.headers["Retry-After"] = str(throttled.retry_after_seconds)
        return page
    if user is None:
        return _anonymous_form(request, "login.html", {"next": target, "name": name[:64],
                                                       "error": "That name and password do not match."}, 401)
    return await run_in_threadpool(signed_in, request, user, target)


@router.post("/logout")
def logout(request: Request) -> Response:
    accounts.end_session(store_of(request), session_token(request))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))
    return response


# -- first run

def _setup_token_ok(request: Request, token: str) -> bool:
    expected = getattr(request.app.state, "setup_token", None)
    return bool(expected) and secrets.compare_digest(expected.encode(), token.encode("utf-8", "replace"))


def _setup_or_404(request: Request, token: str) -> None:
    if not _setup_token_ok(request, token) or store_of(request).has_admin():
        raise WebError(404, "This first-run link is not valid: it was used already, or an admin exists. "
                            "Sign in, or make an admin with `newswire user add NAME --admin`.")


@router.get("/setup/{token}", response_class=HTMLResponse)
def setup_page(request: Request, token: str) -> HTMLResponse:
    _setup_or_404(request, token)
    return _anonymous_form(request, "setup.html", {"token": token, "name": ""})


@router.post("/setup/{token}")
async def setup(request: Request, token: str) -> Response:
    form = await read_form(request)
    _check_anonymous_form(request, form)
    return await run_in_threadpool(_make_first_admin, request, token, form)


def _make_first_admin(request: Request, token: str, form: dict[str, str]) -> Response:
    _setup_or_404(request, token)
    name, password = form.get("name", ""), form.get("password", "")
    error = "The two passwords differ." if password != form.get("password2", "") else None
    if error is None:
        try:
            user = accounts.create_user(store_of(request), name, password, admin=True)
        except accounts.AccountError as failure:
            error = as_sentence(failure)
        else:
            request.app.state.setup_token = None  # used: the link dies with it
            return signed_in(request, user, "/sources")
    return _anonymous_form(request, "setup.html", {"token": token, "name": name[:64], "error": error}, 400)


# -- settings: API tokens and password

@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, changed: str = "", user: User = Depends(require_user)) -> HTMLResponse:
    return _settings(request, user, password_changed=changed == "password")


def _settings(request: Request, user: User, **extra: Any) -> HTMLResponse:
    tokens = accounts.list_tokens(store_of(request), user.id)
    return render_page(request, "settings.html", {"tokens": tokens, **extra})


@router.post("/settings/tokens", response_class=HTMLResponse)
async def new_token(request: Request, user: User = Depends(require_user)) -> HTMLResponse:
    form = await read_form(request)
    label = form.get("label", "").strip()[:100] or "API token"
    return await run_in_threadpool(_new_token, request, user, label)


def _new_token(request: Request, user: User, label: str) -> HTMLResponse:
    token = accounts.create_token(store_of(request), user.id, label)
    return _settings(request, user, new_token=token, new_label=label)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, user: User = Depends(require_user)) -> Response:
    accounts.revoke_token(store_of(request), user.id, id_or_404(token_id, "token"))
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(request: Request, user: User = Depends(require_user)) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_change_password, request, user, form)


def _change_password(request: Request, user: User, form: dict[str, str]) -> Response:
    new = form.get("new_password", "")
    address = request.client.host if request.client else ""
    try:
        if new != form.get("new_password2", ""):
            raise accounts.AccountError("accounts: the two new passwords differ")
        accounts.change_own_password(store_of(request), user, form.get("current_password", ""), new, address=address)
    except accounts.Throttled as throttled:
        page = _settings(request, user, password_error="Too many wrong passwords. Try again in "
                                                       f"{throttled.retry_after_seconds // 60 + 1} minutes.")
        page.status_code = 429
        page.headers["Retry-After"] = str(throttled.retry_after_seconds)
        return page
    except accounts.AccountError as failure:
        page = _settings(request, user, password_error=as_sentence(failure))
        page.status_code = 400
        return page
    return signed_in(request, user, "/settings?" + urlencode({"changed": "password"}))
