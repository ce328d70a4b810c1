"""Google Reader authentication, as its clients do it:

    POST accounts/ClientLogin  Email, Passwd  ─► accounts.authenticate ─► accounts.create_token
                               ◄─ "SID=…\\nLSID=…\\nAuth=TOKEN\\n" (or JSON with output=json)
    every call                 Authorization: GoogleLogin auth=TOKEN   (Bearer TOKEN works too)
    GET reader/api/0/token     ◄─ T, a write token derived from TOKEN
    every POST that changes    T=…  in the form or the query string

The login token is an ordinary API token (``newswire user token`` makes one too, and revoking it
signs the app out). The write token is an HMAC of the login token under a server secret, so it
needs no table, outlives restarts, and is useless without the login token it belongs to.

Failures answer as FreshRSS does: 401 for a missing or unknown token, 401 with
``Google-Bad-Token: true`` for a missing or wrong T, 429 with Retry-After when sign-ins are
throttled. They are raised as HTTP exceptions for the app's one error boundary to write.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from starlette.exceptions import HTTPException

from newswire import accounts
from newswire.models import User
from newswire.store import Store

WRITE_TOKEN_SECRET = "greader-write-token"
TOKEN_LABEL = "Google Reader app"
APP_TOKENS_KEPT = 20  # each ClientLogin makes a token; a user keeps this many, most recently used
MAX_CREDENTIAL = 1024


def bearer_of(authorization: str | None) -> str | None:
    """The token in ``GoogleLogin auth=TOKEN`` or ``Bearer TOKEN``; None for anything else."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    rest = rest.strip()
    if scheme.lower() == "googlelogin" and rest[:5].lower() == "auth=":
        return rest[5:].strip() or None
    if scheme.lower() == "bearer":
        return rest or None
    return None


def sign_in(store: Store, email: str | None, password: str | None, address: str) -> str:
    """A new login token for these credentials. Raises 401 (the same for an unknown name as for a
    wrong password) or 429 when sign-ins from this name or address are throttled."""
    if not email or not password or len(email) > MAX_CREDENTIAL or len(password) > MAX_CREDENTIAL:
        raise HTTPException(401, "Error=BadAuthentication")
    try:
        user = accounts.authenticate(store, email, password, address=address)
    except accounts.Throttled as throttled:
        raise HTTPException(429, "Error=TooManyAttempts",
                            headers={"Retry-After": str(throttled.retry_after_seconds)}) from None
    if user is None:
        raise HTTPException(401, "Error=BadAuthentication")
    return accounts.create_token(store, user.id, TOKEN_LABEL, keep=APP_TOKENS_KEPT)


def login_token(request: Request) -> str:
    """The login token the request carries. Raises 401 when there is none."""
    token = bearer_of(request.headers.get("authorization"))
    if token is None:
        raise HTTPException(401, "Unauthorized!")
    return token


def user_of(store: Store, token: str) -> User:
    """The user of a login token. Raises 401 for an unknown or revoked one."""
    user = accounts.user_for_token(store, token)
    if user is None:
        raise HTTPException(401, "Unauthorized!")
    return user


def write_token(secret: str, token: str) -> str:
    """The T that POSTs made with ``token`` must carry."""
    return hmac.new(secret.encode(), token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:40]


def check_write_token(secret: str, token: str, given: str | None) -> None:
    """Raises 401 with ``Google-Bad-Token: true`` unless ``given`` is the T of ``token``. The
    token call answers with a closing newline, as Google and FreshRSS do, and some clients (libgreader)
    send it back as read: surrounding whitespace is not part of T."""
    given = given.strip() if given else given
    if not given or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                            write_token(secret, token).encode()):
        raise HTTPException(401, "Unauthorized!", headers={"Google-Bad-Token": "true"})
