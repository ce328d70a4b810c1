"""``newswire user …``: accounts from the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from newswire import accounts
from newswire.cli import app
from newswire.store import Store

runner = CliRunner(env={"COLUMNS": "300"})


def cli(db_url, *args, input=None):
    result = runner.invoke(app, ["user", *args, "--database", db_url], input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_add_with_the_password_typed_twice(database_url):
    code, out = cli(database_url, "add", "Ana", "--admin", input="secret pass\nsecret pass\n")
    assert code == 0 and "Created admin Ana." in out
    assert "secret pass" not in out
    with Store(database_url) as store:
        user = accounts.authenticate(store, "ana", "secret pass")
        assert user is not None and user.is_admin


def test_add_asks_again_when_the_two_passwords_differ(sqlite_url):
    code, out = cli(sqlite_url, "add", "bo", input="first one\nsecond one\nthird one\nthird one\n")
    assert code == 0 and "do not match" in out
    with Store(sqlite_url) as store:
        assert accounts.authenticate(store, "bo", "third one") is not None


def test_add_errors_are_one_line_and_exit_1(sqlite_url):
    assert cli(sqlite_url, "add", "ana", "--password-stdin", input="long enough\n")[0] == 0
    code, out = cli(sqlite_url, "add", "ANA", "--password-stdin", input="long enough\n")
    assert code == 1 and "already a user" in out and "Traceback" not in out
    code, out = cli(sqlite_url, "add", "bo", "--password-stdin", input="short\n")
    assert code == 1 and "at least 8" in out
    code, out = cli(sqlite_url, "add", "has space", "--password-stdin", input="long enough\n")
    assert code == 1 and "name" in out


def test_passwd_list_remove_and_token(database_url):
    cli(database_url, "add", "ana", "--admin", "--password-stdin", input="first password\n")
    cli(database_url, "add", "bo", "--password-stdin", input="first password\n")
    with Store(database_url) as store:
        ana = accounts.find_user(store, "ana")
        session = accounts.start_session(store, ana)

    code, out = cli(database_url, "passwd", "ana", "--password-stdin", input="second password\n")
    assert code == 0 and "sessions have ended" in out
    code, out = cli(database_url, "list")
    assert code == 0 and "ana" in out and "admin" in out and "bo" in out and "reader" in out

    code, out = cli(database_url, "token", "bo", "--label", "phone")
    token = out.strip()
    assert code == 0 and token.startswith("nw_")
    with Store(database_url) as store:
        assert accounts.user_for_session(store, session) is None
        assert accounts.authenticate(store, "ana", "second password") == ana
        assert accounts.user_for_token(store, token).name == "bo"
        assert [t.label for t in accounts.list_tokens(store, accounts.find_user(store, "bo").id)] == ["phone"]

    code, out = cli(database_url, "remove", "bo")
    assert code == 0 and "Removed bo." in out
    code, out = cli(database_url, "list")
    assert "bo" not in out


def test_unknown_user_is_exit_1(sqlite_url):
    for args in (("passwd", "nobody", "--password-stdin"), ("remove", "nobody"), ("token", "nobody")):
        code, out = cli(sqlite_url, *args, input="long enough\n")
        assert code == 1 and "no user" in out, args


def test_list_without_users_says_how_to_add_one(sqlite_url):
    code, out = cli(sqlite_url, "list")
    assert code == 0 and "newswire user add NAME --admin" in out


def test_password_from_a_pipe_in_a_real_process(sqlite_url):
    newswire = [sys.executable, "-m", "newswire.cli"]
    done = subprocess.run([*newswire, "user", "add", "ana", "--password-stdin", "--database", sqlite_url],
                          input="piped password\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*newswire, "user", "add", "ana", "--password-stdin", "--database", sqlite_url],
                          input="piped password\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    with Store(sqlite_url) as store:
        assert accounts.authenticate(store, "ana", "piped password") is not None
