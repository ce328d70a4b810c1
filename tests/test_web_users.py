"""The admin's users page and each user's own password change, over HTTP against the app
(TestClient) on SQLite and PostgreSQL; and the rehash of passwords hashed with older
parameters."""

from __future__ import annotations

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from newswire import accounts
from newswire.testing import LOOPBACK
from newswire.testing.signin import PASSWORD, page_csrf_token, sign_in
from newswire.web.app import create_app
from newswire.web.identity import SESSION_COOKIE
from test_web_accounts import log_in

NEW_PASSWORD = "another good password"


def client_for(store) -> TestClient:
    return TestClient(create_app(store, LOOPBACK), base_url="http://localhost")


def user_id(store, name: str) -> int:
    return accounts.find_user(store, name).id


def signed_in_by_form(client, store, name: str) -> None:
    """Sign in through the form, as a browser does (so the server's cookie is the only one)."""
    accounts.find_user(store, name) or accounts.create_user(store, name, PASSWORD)
    assert log_in(client, name, PASSWORD).status_code == 303
    client.headers["X-CSRF-Token"] = page_csrf_token(client)


def notice(page) -> str:
    start = page.text.index('class="notice')
    return page.text[start:page.text.index("</p>", start)]


def test_only_admins_see_the_users_page(store):
    accounts.create_user(store, "ana", PASSWORD, admin=True)
    with client_for(store) as anonymous, client_for(store) as reader, client_for(store) as admin:
        assert anonymous.get("/users", follow_redirects=False).headers["location"].startswith("/login")
        sign_in(reader, store, "bo", admin=False)
        assert reader.get("/users").status_code == 403
        assert 'href="/users"' not in reader.get("/").text
        sign_in(admin, store, "ana")
        page = admin.get("/users")
        assert page.status_code == 200 and 'href="/users"' in page.text
        assert "ana" in page.text and "bo" in page.text and "(you)" in page.text


def test_an_admin_adds_promotes_demotes_and_removes_users(store):
    with client_for(store) as client:
        sign_in(client, store, "ana")
        added = client.post("/users", data={"name": "cy", "password": PASSWORD})
        assert "Added cy as a reader" in notice(added)
        assert accounts.authenticate(store, "cy", PASSWORD) is not None
        taken = client.post("/users", data={"name": "CY", "password": PASSWORD})
        assert "Could not add" in notice(taken) and "already a user" in notice(taken)
        short = client.post("/users", data={"name": "dee", "password": "short"})
        assert "Could not add" in notice(short) and accounts.find_user(store, "dee") is None

        cy = user_id(store, "cy")
        assert "cy is now an admin" in notice(client.post(f"/users/{cy}/admin"))
        assert accounts.find_user(store, "cy").is_admin
        assert "cy is now a reader" in notice(client.post(f"/users/{cy}/reader"))
        assert not accounts.find_user(store, "cy").is_admin

        removed = client.post(f"/users/{cy}/remove")
        assert "Removed cy" in notice(removed) and accounts.find_user(store, "cy") is None
        assert client.post(f"/users/{cy}/remove").status_code == 404
        assert client.post("/users/nope/admin").status_code == 404


def test_the_last_admin_can_be_neither_demoted_nor_removed(store):
    with client_for(store) as client:
        ana = sign_in(client, store, "ana")
        refused = client.post(f"/users/{ana.id}/reader")
        assert "only admin" in notice(refused) and accounts.find_user(store, "ana").is_admin
        refused = client.post(f"/users/{ana.id}/remove")
        assert "only admin" in notice(refused) and accounts.find_user(store, "ana") is not None
        accounts.create_user(store, "cy", PASSWORD, admin=True)
        gone = client.post(f"/users/{ana.id}/remove", follow_redirects=False)  # another admin remains
        assert gone.status_code == 303 and gone.headers["location"] == "/"
        assert accounts.find_user(store, "ana") is None
        assert "Hello," not in client.get("/").text  # removing yourself ends your session


def test_setting_someones_password_signs_them_out(store):
    with client_for(store) as admin, client_for(store) as reader:
        sign_in(admin, store, "ana")
        bo = sign_in(reader, store, "bo", admin=False)
        assert "Hello," in reader.get("/").text
        done = admin.post(f"/users/{bo.id}/password", data={"password": NEW_PASSWORD})
        assert "signed out everywhere" in notice(done)
        assert "Hello," not in reader.get("/").text
        assert accounts.authenticate(store, "bo", NEW_PASSWORD) is not None
        refused = admin.post(f"/users/{bo.id}/password", data={"password": "short"})
        assert "Could not set" in notice(refused)


def test_a_user_changes_their_own_password_and_other_sessions_end(store):
    with client_for(store) as here, client_for(store) as elsewhere:
        signed_in_by_form(here, store, "bo")
        signed_in_by_form(elsewhere, store, "bo")
        before = here.cookies.get(SESSION_COOKIE)

        wrong = here.post("/settings/password", data={"current_password": "not it", "new_password": NEW_PASSWORD,
                                                      "new_password2": NEW_PASSWORD})
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        differ = here.post("/settings/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                       "new_password2": NEW_PASSWORD + "!"})
        assert differ.status_code == 400 and "differ" in differ.text
        weak = here.post("/settings/password", data={"current_password": PASSWORD, "new_password": "short",
                                                     "new_password2": "short"})
        assert weak.status_code == 400 and accounts.authenticate(store, "bo", PASSWORD) is not None

        changed = here.post("/settings/password", data={"current_password": PASSWORD,
                                                        "new_password": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
        assert changed.status_code == 200 and "Your password is changed" in changed.text
        assert here.cookies.get(SESSION_COOKIE) not in (None, before)  # this browser stays signed in
        assert "Hello," in here.get("/").text
        assert "Hello," not in elsewhere.get("/").text
        assert accounts.authenticate(store, "bo", PASSWORD) is None
        assert accounts.authenticate(store, "bo", NEW_PASSWORD) is not None
        here.headers["X-CSRF-Token"] = page_csrf_token(here)
        assert here.post("/settings/tokens", data={"label": "still works"}).status_code == 200


def test_wrong_current_passwords_are_throttled_like_sign_ins(store):
    with client_for(store) as client:
        sign_in(client, store, "bo", admin=False)
        answers = [client.post("/settings/password", data={"current_password": f"guess {i}",
                                                           "new_password": NEW_PASSWORD,
                                                           "new_password2": NEW_PASSWORD}).status_code
                   for i in range(accounts.NAME_LIMIT + 1)]
        assert answers[:accounts.NAME_LIMIT] == [400] * accounts.NAME_LIMIT and answers[-1] == 429


def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(store):
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    accounts.create_user(store, "bo", PASSWORD)
    store.set_password_hash(accounts.name_key("bo"), old.hash(PASSWORD), accounts.fever_key("bo", PASSWORD))
    assert PasswordHasher().check_needs_rehash(store.user_credentials(accounts.name_key("bo"))[1])
    session = accounts.start_session(store, accounts.find_user(store, "bo"))
    assert accounts.authenticate(store, "bo", PASSWORD) is not None
    upgraded = store.user_credentials(accounts.name_key("bo"))[1]
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert accounts.authenticate(store, "bo", PASSWORD) is not None
    assert accounts.user_for_session(store, session) is not None  # same password: sessions stay
