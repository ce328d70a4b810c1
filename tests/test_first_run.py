"""First run over real HTTP: ``newswire serve`` on a database with no admin prints a one-time
link; until it is used nothing can be changed; its page makes the first admin, signs them in,
and then dies."""

from __future__ import annotations

import re
import signal

import httpx

from newswire import accounts
from newswire.store import Store
from test_run import Process, free_port, wait_until, web_answers

HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def test_serve_prints_a_one_time_link_that_makes_the_first_admin(tmp_path):
    db = f"sqlite:///{tmp_path / 'first.db'}"
    port = free_port()
    process = Process("serve", "--port", str(port), "--database", db)
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        link = wait_until(lambda: re.search(r"(http://127\.0\.0\.1:\d+/setup/[\w-]+)", process.output),
                          "the first-run link", process).group(1)
        assert "newswire user add NAME --admin" in process.output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as browser:
            refused = browser.post("/sources", data={"url": "http://127.0.0.1:9/feed"})
            assert refused.status_code == 403 and "one-time link" in refused.text
            assert browser.get("/setup/not-the-token").status_code == 404
            page = browser.get(link)
            assert page.status_code == 200 and "first admin" in page.text
            form = {"csrf_token": HIDDEN.search(page.text).group(1), "name": "Ana"}
            differ = browser.post(link, data={**form, "password": "first password", "password2": "other password"})
            assert differ.status_code == 400 and "The two passwords differ." in differ.text
            made = browser.post(link, data={**form, "password": "first password", "password2": "first password"},
                                follow_redirects=False)
            assert made.status_code == 303 and made.headers["location"] == "/sources"
            assert "Hello, <a href=\"/settings\">Ana</a>" in browser.get("/sources").text
            assert 'action="/sources"' in browser.get("/sources").text  # the admin's forms
            assert browser.get(link).status_code == 404  # used: gone
        assert process.stop(signal.SIGTERM) == 0
    finally:
        process.kill()
    with Store(db) as store:
        [ana] = accounts.list_users(store)
        assert ana.is_admin and accounts.authenticate(store, "ana", "first password") == ana


def test_no_link_once_an_admin_exists(tmp_path):
    db = f"sqlite:///{tmp_path / 'ready.db'}"
    with Store(db) as store:
        accounts.create_user(store, "ana", "first password", admin=True)
    port = free_port()
    process = Process("serve", "--port", str(port), "--database", db)
    try:
        wait_until(lambda: web_answers(port), "the web server", process)
        assert "/setup/" not in process.output
        assert process.stop(signal.SIGTERM) == 0
    finally:
        process.kill()
