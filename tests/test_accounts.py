"""Accounts on SQLite and PostgreSQL: users, passwords, throttled sign-in, sessions, tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from newswire import accounts
from newswire.accounts import AccountError, Throttled, UserExistsError
from newswire.errors import NotFound

PASSWORD = "correct horse"


def test_create_and_list_users(store):
    ana = accounts.create_user(store, "Ana", PASSWORD, admin=True)
    bo = accounts.create_user(store, "bo", PASSWORD)
    assert (ana.name, ana.is_admin, bo.is_admin) == ("Ana", True, False)
    assert ana.created_at.tzinfo is not None
    assert accounts.list_users(store) == [ana, bo]
    assert store.has_admin()
    assert accounts.find_user(store, "ANA") == ana


def test_no_admin_until_one_is_made(store):
    assert not store.has_admin()
    accounts.create_user(store, "reader", PASSWORD)
    assert not store.has_admin()


@pytest.mark.parametrize("name", ["ana", "ANA", " Ana "])
def test_a_name_is_taken_in_any_case(store, name):
    accounts.create_user(store, "Ana", PASSWORD)
    with pytest.raises(UserExistsError):
        accounts.create_user(store, name, PASSWORD)


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "a/b", "a:b", "a\x00"])
def test_bad_names_are_refused(store, name):
    with pytest.raises(AccountError):
        accounts.create_user(store, name, PASSWORD)


@pytest.mark.parametrize("password", ["short", "x" * 1025, "nul\x00in the middle"])
def test_bad_passwords_are_refused(store, password):
    with pytest.raises(AccountError):
        accounts.create_user(store, "ana", password)


def test_passwords_are_stored_as_argon2(store):
    accounts.create_user(store, "ana", PASSWORD)
    _, stored = store.user_credentials("ana")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_authenticate(store):
    ana = accounts.create_user(store, "Ana", PASSWORD)
    assert accounts.authenticate(store, "ana", PASSWORD) == ana
    assert accounts.authenticate(store, "ana", "wrong password") is None
    assert accounts.authenticate(store, "nobody", PASSWORD) is None
    assert accounts.authenticate(store, "", "") is None
    assert accounts.authenticate(store, "n" * 10_000, "p" * 10_000) is None


def test_throttled_per_name_after_five_failures(store):
    accounts.create_user(store, "ana", PASSWORD)
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    for i in range(accounts.NAME_LIMIT):
        assert accounts.authenticate(store, "ana", "wrong", address=f"10.0.0.{i}", now=now) is None
    with pytest.raises(Throttled) as caught:
        accounts.authenticate(store, "ANA", PASSWORD, address="10.0.1.1", now=now + timedelta(minutes=1))
    assert caught.value.retry_after_seconds == 14 * 60 + 1
    # another name from the same addresses is not held up
    assert accounts.authenticate(store, "bo", "wrong", address="10.0.0.1", now=now) is None
    # once the failures leave the window, the right password works and the count starts over
    later = now + accounts.THROTTLE_WINDOW + timedelta(seconds=1)
    assert accounts.authenticate(store, "ana", PASSWORD, address="10.0.1.1", now=later) is not None


def test_throttled_per_address(store):
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    for i in range(accounts.ADDRESS_LIMIT):
        accounts.authenticate(store, f"user{i}", "wrong", address="192.0.2.7", now=now)
    with pytest.raises(Throttled):
        accounts.authenticate(store, "someone-else", "wrong", address="192.0.2.7", now=now)
    assert accounts.authenticate(store, "someone-else", "wrong", address="192.0.2.8", now=now) is None


def test_success_forgets_the_names_failures(store):
    accounts.create_user(store, "ana", PASSWORD)
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    for _ in range(accounts.NAME_LIMIT - 1):
        accounts.authenticate(store, "ana", "wrong", now=now)
    assert accounts.authenticate(store, "ana", PASSWORD, now=now) is not None
    for _ in range(accounts.NAME_LIMIT - 1):
        accounts.authenticate(store, "ana", "wrong", now=now)
    assert accounts.authenticate(store, "ana", PASSWORD, now=now) is not None


def test_sessions_start_and_end(store):
    ana = accounts.create_user(store, "ana", PASSWORD)
    token = accounts.start_session(store, ana)
    assert accounts.user_for_session(store, token) == ana
    accounts.end_session(store, token)
    assert accounts.user_for_session(store, token) is None
    assert accounts.user_for_session(store, "") is None
    assert accounts.user_for_session(store, "x" * 1000) is None


def test_changing_the_password_ends_every_session_but_keeps_tokens(store):
    ana = accounts.create_user(store, "ana", PASSWORD)
    bo = accounts.create_user(store, "bo", PASSWORD)
    sessions = [accounts.start_session(store, ana) for _ in range(2)]
    other = accounts.start_session(store, bo)
    api_token = accounts.create_token(store, ana.id, "phone")
    accounts.set_password(store, "Ana", "a new password")
    assert [accounts.user_for_session(store, s) for s in sessions] == [None, None]
    assert accounts.user_for_session(store, other) == bo
    assert accounts.user_for_token(store, api_token) == ana
    assert accounts.authenticate(store, "ana", PASSWORD) is None
    assert accounts.authenticate(store, "ana", "a new password") == ana


def test_set_password_of_unknown_user(store):
    with pytest.raises(NotFound):
        accounts.set_password(store, "nobody", PASSWORD)


def test_api_tokens(store):
    ana = accounts.create_user(store, "ana", PASSWORD)
    bo = accounts.create_user(store, "bo", PASSWORD)
    token = accounts.create_token(store, ana.id, "reader app")
    assert token.startswith("nw_") and len(token) > 40
    assert accounts.user_for_token(store, token) == ana
    assert accounts.user_for_token(store, token + "x") is None
    assert accounts.user_for_token(store, "") is None
    [listed] = accounts.list_tokens(store, ana.id)
    assert listed.label == "reader app" and listed.last_used_at is not None
    assert token not in repr(listed)
    with pytest.raises(NotFound):
        accounts.revoke_token(store, bo.id, listed.id)  # not bo's to revoke
    accounts.revoke_token(store, ana.id, listed.id)
    assert accounts.user_for_token(store, token) is None
    assert accounts.list_tokens(store, ana.id) == []


def test_fever_key(store):
    ana = accounts.create_user(store, "ana", PASSWORD)
    key = hashlib.md5(f"ana:{PASSWORD}".encode()).hexdigest()
    assert accounts.user_for_fever_key(store, key) == ana
    assert accounts.user_for_fever_key(store, key.upper()) == ana
    assert accounts.user_for_fever_key(store, "not a key") is None
    accounts.set_password(store, "ana", "another password")
    assert accounts.user_for_fever_key(store, key) is None
    assert accounts.user_for_fever_key(store, hashlib.md5(b"ana:another password").hexdigest()) == ana


def test_remove_user_ends_sessions_and_tokens(store):
    ana = accounts.create_user(store, "ana", PASSWORD)
    session = accounts.start_session(store, ana)
    token = accounts.create_token(store, ana.id, "")
    accounts.remove_user(store, "ANA")
    assert accounts.list_users(store) == []
    assert accounts.user_for_session(store, session) is None
    assert accounts.user_for_token(store, token) is None
    with pytest.raises(NotFound):
        accounts.remove_user(store, "ana")
