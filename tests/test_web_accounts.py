"""Signing in and out, CSRF, throttling, the settings page, NEWSWIRE_PUBLIC and who may change
what, over HTTP against the app (TestClient) on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from newswire import accounts
from newswire.testing import LOOPBACK
from newswire.testing.signin import PASSWORD, page_csrf_token, sign_in
from newswire.web.app import create_app
from newswire.web.auth import NO_ADMIN_YET
from newswire.web import reader
from test_api import seed

SAFE = {"GET", "HEAD", "OPTIONS"}
HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def seeded(store):
    seed(store)
    accounts.create_user(store, "ana", PASSWORD, admin=True)
    accounts.create_user(store, "bo", PASSWORD)
    return store


def client_for(store, settings=LOOPBACK, base_url="http://localhost") -> TestClient:
    return TestClient(create_app(store, settings), base_url=base_url)


def login_form(client, next_path="/") -> str:
    page = client.get("/login", params={"next": next_path})
    assert page.status_code == 200
    return HIDDEN.search(page.text).group(1)


def log_in(client, name, password, next_path="/"):
    token = login_form(client, next_path)
    return client.post("/login", data={"name": name, "password": password, "next": next_path,
                                       "csrf_token": token}, follow_redirects=False)


def cookie_attributes(response, name) -> dict[str, str]:
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            return {"httponly": str(morsel["httponly"]), "samesite": morsel["samesite"],
                    "secure": str(morsel["secure"]), "value": morsel.value}
    raise AssertionError(f"no {name} cookie set")


def test_sign_in_says_hello_and_sign_out_ends_the_session(seeded):
    with client_for(seeded) as client:
        assert "Sign in" in client.get("/").text
        done = log_in(client, "ANA", PASSWORD, "/sources")
        assert done.status_code == 303 and done.headers["location"] == "/sources"
        cookie = cookie_attributes(done, "newswire_session")
        assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and not cookie["secure"]
        page = client.get("/").text
        assert "Hello, <a href=\"/settings\">ana</a>" in page and "Sign out" in page
        out = client.post("/logout", data={"csrf_token": page_csrf_token(client)}, follow_redirects=False)
        assert out.status_code == 303
        assert accounts.user_for_session(seeded, cookie["value"]) is None
        assert "Hello," not in client.get("/").text


def test_session_cookie_is_secure_behind_https(seeded):
    public = "https://news.example.org"
    with client_for(seeded, LOOPBACK.with_changes(base_url=public), base_url=public) as client:
        done = log_in(client, "ana", PASSWORD)
        assert cookie_attributes(done, "newswire_session")["secure"]


def test_wrong_name_and_wrong_password_get_the_same_answer(seeded):
    with client_for(seeded) as client:
        wrong_password = log_in(client, "ana", "not the password")
        wrong_name = log_in(client, "nobody", "not the password")
    assert wrong_password.status_code == wrong_name.status_code == 401
    strip = lambda text: re.sub(r'value="[^"]*"', "", text)  # noqa: E731  (the typed name is kept)
    assert strip(wrong_password.text) == strip(wrong_name.text)
    assert "That name and password do not match." in wrong_name.text


def test_next_never_leaves_the_site(seeded):
    with client_for(seeded) as client:
        for target in ("//evil.test/", "https://evil.test/", "/\\evil.test"):
            assert log_in(client, "ana", PASSWORD, target).headers["location"] == "/"


def test_sign_in_without_the_form_token_is_refused(seeded):
    with client_for(seeded) as client:
        refused = client.post("/login", data={"name": "ana", "password": PASSWORD})
        assert refused.status_code == 403


def test_throttled_sign_in_is_429_with_retry_after(seeded):
    with client_for(seeded) as client:
        for _ in range(accounts.NAME_LIMIT):
            assert log_in(client, "bo", "wrong password").status_code == 401
        throttled = log_in(client, "bo", PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in throttled.text


def test_forms_need_the_session_s_token(seeded):
    source = seeded.list_sources()[0]
    with client_for(seeded) as client:
        log_in(client, "ana", PASSWORD)
        assert client.post(f"/sources/{source.id}/pause").status_code == 403
        assert client.post(f"/sources/{source.id}/pause", data={"csrf_token": "forged"}).status_code == 403
        assert seeded.get_source(source.id).enabled
        form_token = HIDDEN.search(client.get("/sources").text).group(1)
        paused = client.post(f"/sources/{source.id}/pause", data={"csrf_token": form_token}, follow_redirects=False)
        assert paused.status_code == 303 and not seeded.get_source(source.id).enabled
        # another session's token is no good here
        other = accounts.start_session(seeded, accounts.find_user(seeded, "ana"))
        with client_for(seeded) as second:
            second.cookies.set("newswire_session", other)
            assert second.post(f"/sources/{source.id}/resume", data={"csrf_token": form_token}).status_code == 403


def test_changing_the_password_signs_every_browser_out(seeded):
    with client_for(seeded) as first, client_for(seeded) as second:
        log_in(first, "bo", PASSWORD)
        log_in(second, "bo", PASSWORD)
        assert "Hello," in first.get("/").text and "Hello," in second.get("/").text
        accounts.set_password(seeded, "bo", "a brand new password")
        assert "Hello," not in first.get("/").text and "Hello," not in second.get("/").text


def test_settings_page_makes_shows_once_and_revokes_tokens(seeded):
    with client_for(seeded) as client:
        assert client.get("/settings", follow_redirects=False).headers["location"] == "/login?next=%2Fsettings"
        bo = sign_in(client, seeded, "bo")
        made = client.post("/settings/tokens", data={"label": "My phone"})
        token = re.search(r"data-new-token>([^<]+)<", made.text).group(1)
        assert made.status_code == 200 and "shown only this once" in made.text
        assert token not in client.get("/settings").text and "My phone" in client.get("/settings").text
        assert accounts.user_for_token(seeded, token) == bo
        [listed] = accounts.list_tokens(seeded, bo.id)
        revoked = client.post(f"/settings/tokens/{listed.id}/revoke", follow_redirects=False)
        assert revoked.status_code == 303 and accounts.user_for_token(seeded, token) is None
        assert client.post("/settings/tokens/99999/revoke").status_code == 404
        assert client.post("/settings/tokens/nope/revoke").status_code == 404


def test_a_private_newswire_needs_a_sign_in_to_read(seeded):
    private = LOOPBACK.with_changes(public=False)
    token = accounts.create_token(seeded, accounts.find_user(seeded, "bo").id, "reader")
    article_id = seeded.list_articles(limit=1).items[0].id
    with client_for(seeded, private) as client:
        page = client.get("/search?q=harbour", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dharbour"
        for path in ("/api/v1/articles", f"/api/v1/articles/{article_id}", "/feed.atom", "/stories/feed.json"):
            refused = client.get(path)
            assert refused.status_code == 401 and refused.json()["status"] == 401, path
        assert client.get("/healthz").status_code == 200 and client.get("/login").status_code == 200
        assert client.get("/static/newswire.css").status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/articles", headers=bearer).status_code == 200
        assert client.get("/api/v1/articles", headers={"Authorization": "Bearer nw_wrong"}).status_code == 401
        assert client.get("/feed.atom", params={"token": token}).status_code == 200
        assert client.get("/api/v1/articles", params={"token": token}).status_code == 401  # feeds only
        log_in(client, "bo", PASSWORD)
        assert client.get("/").status_code == 200


def test_a_public_newswire_is_open_to_read(seeded):
    with client_for(seeded) as client:
        for path in ("/", "/api/v1/articles", "/feed.atom", "/sources", "/stories"):
            assert client.get(path).status_code == 200, path
        assert 'action="/sources"' not in client.get("/sources").text  # no admin forms for a reader


# -- every route that changes something, found by walking the route table

# Routes that anyone may post to: signing in and out, and the first-run link (its token is the check).
ANYONE = {"/login", "/logout", "/setup/{token}"}
# Each user's own things: a signed-in user, not an admin. Engineer B's reader-state routes go here.
PER_READER = {"/settings/tokens", "/settings/tokens/{token_id}/revoke", "/settings/password",
              *reader.MUTATING_PATHS}
# Sync APIs for reader apps check their own credentials (tested in test_greader*.py, test_fever.py).
OWN_AUTH_PREFIXES = ("/api/greader/", "/api/greader.php/", "/api/fever.php", "/fever")


def mutating_routes(app) -> list[tuple[str, str, str]]:
    """(method, route path, path with every parameter filled) of each state-changing route."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found += [(m, route.path, route.path + "/anything") for m in ("POST", "PUT", "PATCH", "DELETE")]
            continue
        for method in sorted(set(route.methods or ()) - SAFE):
            found.append((method, route.path, re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


def test_every_mutating_route_refuses_anonymous_users_and_readers(seeded):
    app = create_app(seeded, LOOPBACK)
    routes = mutating_routes(app)
    assert {("POST", "/sources"), ("DELETE", "/api/v1/sources/{source_id}")} <= {r[:2] for r in routes}
    before = [(s.id, s.enabled, s.name) for s in seeded.list_sources()]
    with TestClient(app, base_url="http://localhost") as anonymous, \
            TestClient(app, base_url="http://localhost") as reader:
        sign_in(reader, seeded, "bo")
        for method, route_path, path in routes:
            if route_path in ANYONE or route_path.startswith(OWN_AUTH_PREFIXES):
                continue
            answer = anonymous.request(method, path, data={"url": "http://127.0.0.1:9/feed"}, follow_redirects=False)
            assert answer.status_code in (401, 403, 405) or (
                answer.status_code == 303 and answer.headers["location"].startswith("/login")), (method, path)
            if route_path in PER_READER:
                continue
            answer = reader.request(method, path, data={"url": "http://127.0.0.1:9/feed"}, follow_redirects=False)
            assert answer.status_code in (403, 405), (method, path, answer.status_code)
    assert [(s.id, s.enabled, s.name) for s in seeded.list_sources()] == before


def test_until_an_admin_exists_nothing_changes_and_the_answer_says_how(store):
    seed(store)
    accounts.create_user(store, "bo", PASSWORD)
    with client_for(store) as client:
        refused = client.post("/api/v1/sources", json={"url": "http://127.0.0.1:9/feed"})
        assert refused.status_code == 403 and refused.json()["message"] == NO_ADMIN_YET
        sign_in(client, store, "bo")
        page = client.post(f"/sources/{store.list_sources()[0].id}/pause")
        assert page.status_code == 403 and "newswire user add NAME --admin" in page.text
