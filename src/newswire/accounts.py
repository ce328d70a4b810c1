"""Accounts: who may sign in, and the secrets that prove it.

The web pages, the CLI and the sync APIs all call these functions; the store keeps only hashes.

- Passwords are hashed with Argon2 (argon2-cffi's defaults). A sign-in with an unknown name
  verifies a dummy hash, so the answer and the work are the same as for a wrong password.
- Sign-in is throttled per name and per address: after ``NAME_LIMIT`` (or ``ADDRESS_LIMIT``)
  failures within ``THROTTLE_WINDOW`` further attempts raise ``Throttled`` without checking the
  password, until the oldest failure leaves the window. Failures are stored, so every ``serve``
  node on one database counts the same ones.
- Sessions (browser sign-ins) and API tokens are random strings; the store keeps their SHA-256
  (they are long and random, so a slow hash adds nothing). Changing a password ends every
  session of the user; API tokens stay until revoked.
- ``fever_key`` is md5("name:password"), the login the Fever API defines: a password
  equivalent the Fever protocol leaves no way around, stored beside the Argon2 hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from newswire.errors import NewswireError, NotFound
from newswire.models import ApiToken, User
from newswire.store import Store

NAME_LIMIT = 5
ADDRESS_LIMIT = 20
THROTTLE_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=30)
_TOUCH_AFTER = timedelta(minutes=5)  # how stale last-seen/last-used may get before a write
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_NAME = re.compile(r"[\w.@+-]{1,64}")
TOKEN_PREFIX = "nw_"


class AccountError(NewswireError, ValueError):
    """A name or password is unusable, or the name is taken; the message says which."""


class UserExistsError(AccountError):
    pass


class WrongPassword(AccountError):
    pass


class Throttled(NewswireError):
    """Too many failed sign-ins for this name or address; try again in ``retry_after_seconds``."""

    def __init__(self, retry_after_seconds: int):
        super().__init__(f"accounts: too many failed sign-ins; try again in {retry_after_seconds} seconds")
        self.retry_after_seconds = retry_after_seconds


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``, with its own salt and parameters."""
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def name_key(name: str) -> str:
    """The form of a name that identifies an account: NFKC, casefolded, so "Ana" and "ANA"
    cannot be two users."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def check_name(name: str) -> str:
    """``name`` stripped, or AccountError: 1 to 64 letters, digits or ``. _ @ + -``."""
    name = unicodedata.normalize("NFKC", name.strip())
    if not _NAME.fullmatch(name):
        raise AccountError("accounts: a name is 1 to 64 letters, digits or . _ @ + - (no spaces)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"accounts: a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"accounts: a password has at most {MAX_PASSWORD} characters")
    if "\x00" in password:
        raise AccountError("accounts: a password cannot hold a NUL character")
    return password


def fever_key(name: str, password: str) -> str:
    """The Fever API's ``api_key`` for these credentials: md5 of "name:password", lower-case hex."""
    return hashlib.md5(f"{name}:{password}".encode()).hexdigest()


def create_user(store: Store, name: str, password: str, *, admin: bool = False) -> User:
    """Create an account. Raises AccountError for a bad name or password, UserExistsError when
    the name (in any case) is taken, StorageError."""
    name = check_name(name)
    check_password(password)
    user = store.add_user(name, name_key(name), hash_password(password), fever_key(name, password), admin=admin)
    if user is None:
        raise UserExistsError(f"accounts: there is already a user {name!r}")
    return user


def set_password(store: Store, name: str, password: str) -> None:
    """Change a password; every session of the user ends (API tokens stay). Raises AccountError,
    NotFound, StorageError."""
    check_password(password)
    user = find_user(store, name)
    if user is None:
        raise NotFound(f"accounts: no user {name!r}")
    store.set_password_hash(name_key(name), hash_password(password), fever_key(user.name, password))


def find_user(store: Store, name: str) -> User | None:
    return store.find_user(name_key(name))


def list_users(store: Store) -> list[User]:
    return store.list_users()


def remove_user(store: Store, name: str, *, keep_an_admin: bool = False) -> None:
    """Delete a user with their sessions and tokens; with ``keep_an_admin`` (the web's rule)
    never the last admin. Raises LastAdminError, NotFound, StorageError."""
    store.remove_user(name_key(name), keep_an_admin=keep_an_admin)


def set_admin(store: Store, name: str, admin: bool) -> None:
    """Make a user an admin or a reader (never the last admin a reader). Raises
    LastAdminError, NotFound, StorageError."""
    store.set_user_admin(name_key(name), admin)


def change_own_password(store: Store, user: User, current: str, new: str, *, address: str = "") -> None:
    """A signed-in user's change of their own password: the current one must be right (and
    wrong guesses count towards the same throttle as sign-ins, so a stolen session cannot be
    used to guess it). Every session ends. Raises WrongPassword, Throttled, AccountError,
    StorageError."""
    check_password(new)
    if authenticate(store, user.name, current, address=address) is None:
        raise WrongPassword("accounts: the current password is not right")
    set_password(store, user.name, new)


def authenticate(store: Store, name: str, password: str, *, address: str = "",
                 now: datetime | None = None) -> User | None:
    """The user these credentials name, or None; the same None, after the same work, for an
    unknown name as for a wrong password. Raises Throttled when the name or the address has
    failed too often lately (the password is then not checked), StorageError."""
    now = now or datetime.now(timezone.utc)
    keys = _throttle_keys(name, address)
    _check_throttle(store, keys, now)
    found = store.user_credentials(name_key(name)) if len(name) <= 256 else None
    password_ok = len(password) <= MAX_PASSWORD and _verify(found[1] if found else _dummy_hash(), password)
    if found and password_ok:
        store.clear_login_failures([key for key in keys if key.startswith("name:")])
        if _hasher.check_needs_rehash(found[1]):  # made with older Argon2 parameters
            store.upgrade_password_hash(found[0].id, found[1], hash_password(password))
        return found[0]
    store.record_login_failure(list(keys), now, forget_before=now - THROTTLE_WINDOW)
    return None


def _throttle_keys(name: str, address: str) -> dict[str, int]:
    keys = {"name:" + name_key(name)[:256]: NAME_LIMIT}
    if address:
        keys["address:" + address] = ADDRESS_LIMIT
    return keys


def _check_throttle(store: Store, keys: dict[str, int], now: datetime) -> None:
    failures = store.login_failures(list(keys), now - THROTTLE_WINDOW)
    waits = [(oldest + THROTTLE_WINDOW - now).total_seconds()
             for key, (count, oldest) in failures.items() if count >= keys[key]]
    if waits:
        raise Throttled(max(1, int(max(waits)) + 1))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# sessions

def start_session(store: Store, user: User) -> str:
    """A new browser session for ``user``: the random token for its cookie."""
    token = secrets.token_urlsafe(32)
    store.add_session(_token_hash(token), user.id, datetime.now(timezone.utc) + SESSION_LIFETIME)
    return token


def user_for_session(store: Store, token: str) -> User | None:
    """The user of a live session; its lifetime slides forward with use."""
    if not token or len(token) > 256:
        return None
    now = datetime.now(timezone.utc)
    token_hash = _token_hash(token)
    found = store.session_user(token_hash, now)
    if found is None:
        return None
    user, last_seen = found
    if now - last_seen > _TOUCH_AFTER:
        store.touch_session(token_hash, now, now + SESSION_LIFETIME)
    return user


def end_session(store: Store, token: str) -> None:
    if token and len(token) <= 256:
        store.end_session(_token_hash(token))


# API tokens

def create_token(store: Store, user_id: int, label: str, *, keep: int | None = None) -> str:
    """A new API token for the user (shown once; only its hash is kept). ``keep``: how many
    tokens with this label the user keeps at most, the least recently used going first (apps
    that sign in on every sync would otherwise pile up tokens). Raises StorageError."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.add_api_token(_token_hash(token), user_id, label.strip()[:100], keep=keep)
    return token


def user_for_token(store: Store, token: str) -> User | None:
    """The user of an API token (Bearer, or a Google Reader ``auth=``), or None."""
    if not token or len(token) > 256:
        return None
    token_hash = _token_hash(token)
    found = store.api_token_user(token_hash)
    if found is None:
        return None
    user, last_used = found
    now = datetime.now(timezone.utc)
    if last_used is None or now - last_used > _TOUCH_AFTER:
        store.touch_api_token(token_hash, now)
    return user


def list_tokens(store: Store, user_id: int) -> list[ApiToken]:
    return store.api_tokens(user_id)


def revoke_token(store: Store, user_id: int, token_id: int) -> None:
    """Raises NotFound when the user has no such token."""
    store.revoke_api_token(user_id, token_id)


def user_for_fever_key(store: Store, api_key: str) -> User | None:
    """The user whose Fever ``api_key`` (md5 of "name:password", hex) this is, or None."""
    api_key = api_key.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{32}", api_key):
        return None
    return store.user_by_fever_key(api_key)
