"""A Google Reader client as apps are written, for the tests: it signs in with ClientLogin, sends
``Authorization: GoogleLogin auth=…`` on every call and the write token T on every change.
It speaks real HTTP to a server on 127.0.0.1."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlencode

import httpx

from newswire import accounts
from newswire.store import Store
from newswire.testing import LOOPBACK
from newswire.testing.webserver import WebServer
from newswire.web import create_app

PASSWORD = "correct horse battery"

READING_LIST = "user/-/state/com.google/reading-list"
STARRED = "user/-/state/com.google/starred"
READ = "user/-/state/com.google/read"


class GReader:
    def __init__(self, base_url: str, base: str = "/api/greader"):
        self.http = httpx.Client(base_url=base_url + base, timeout=20)
        self.auth: str | None = None
        self.write_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def client_login(self, email: str, password: str) -> httpx.Response:
        return self.http.post("/accounts/ClientLogin", data={"Email": email, "Passwd": password})

    def login(self, email: str, password: str) -> "GReader":
        """Sign in and fetch T, as apps do before anything else."""
        response = self.client_login(email, password)
        assert response.status_code == 200, response.text
        lines = dict(line.split("=", 1) for line in response.text.splitlines() if line)
        self.auth = lines["Auth"]
        self.write_token = self.get("/reader/api/0/token").text.strip()
        return self

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"GoogleLogin auth={self.auth}"} if self.auth else {}

    def get(self, path: str, params: Any = None) -> httpx.Response:
        return self.http.get("/" + path.lstrip("/"), params=params, headers=self.headers())

    def json(self, path: str, params: Any = None) -> Any:
        response = self.get(path, [("output", "json"), *(_pairs(params))])
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, data: Any = None, *, token: bool = True) -> httpx.Response:
        pairs = _pairs(data) + ([("T", self.write_token or "")] if token else [])
        return self.http.post("/" + path.lstrip("/"), content=urlencode(pairs),
                              headers={**self.headers(), "Content-Type": "application/x-www-form-urlencoded"})

    # what apps ask for

    def stream(self, stream: str, **params: Any) -> dict[str, Any]:
        return self.json(f"/reader/api/0/stream/contents/{stream}", params)

    def ids(self, stream: str, **params: Any) -> tuple[list[int], str | None]:
        document = self.json("/reader/api/0/stream/items/ids", {"s": stream, **params})
        return [int(ref["id"]) for ref in document["itemRefs"]], document.get("continuation")

    def all_ids(self, stream: str, n: int = 2, **params: Any) -> list[int]:
        """Every id of a stream, following continuations page by page."""
        found, continuation = self.ids(stream, n=n, **params)
        while continuation:
            more, continuation = self.ids(stream, n=n, c=continuation, **params)
            found += more
        return found

    def edit_tag(self, ids: list[str], add: str | None = None, remove: str | None = None) -> httpx.Response:
        data = [("i", i) for i in ids] + ([("a", add)] if add else []) + ([("r", remove)] if remove else [])
        return self.post("/reader/api/0/edit-tag", data)

    def unread(self) -> dict[str, int]:
        return {row["id"]: row["count"] for row in self.json("/reader/api/0/unread-count")["unreadcounts"]}


def _pairs(params: Any) -> list[tuple[str, str]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, dict) else params
    return [(k, str(v)) for k, v in items]


@contextmanager
def serving_two_readers(store: Store) -> Iterator[WebServer]:
    """A real server over ``store`` with an admin, ada, and a reader, ben (both PASSWORD)."""
    accounts.create_user(store, "ada", PASSWORD, admin=True)
    accounts.create_user(store, "ben", PASSWORD)
    with WebServer(create_app(store, LOOPBACK)) as web:
        yield web


@contextmanager
def signed_in(server: WebServer, name: str) -> Iterator[GReader]:
    """An app signed in as ``name`` (PASSWORD) on ``server``, closed after."""
    app = GReader(server.base_url).login(name, PASSWORD)
    try:
        yield app
    finally:
        app.close()
