"""The short commands stay short: `newswire fetch` on a database at the head imports neither the
web server (uvicorn, the web app) nor Alembic, nor, on SQLite, PostgreSQL's dialect, nor feed
discovery (`add`'s). Those are imported by the long-running commands (cli_serve) when a server
starts, by a migration when one is needed, by a PostgreSQL connection, by `add`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from newswire.fetch import Fetcher
from newswire.service.update import Refresher
from newswire.store import Store
from newswire.testing import LOOPBACK, samples

PROBE = """
import json, sys
from newswire.cli import app
try:
    app(["fetch", "--database", sys.argv[1]])
except SystemExit as stop:
    code = stop.code
heavy = ("uvicorn", "alembic", "fastapi", "starlette", "newswire.web", "sqlalchemy.dialects.postgresql",
         "newswire.sources.discover", "jinja2", "trafilatura")
print(json.dumps({"code": code, "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def test_fetch_imports_no_server_and_no_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'wire.db'}"
    Store(url).close()  # migrated to the head here, so the command has nothing to migrate
    done = subprocess.run([sys.executable, "-c", PROBE, url], capture_output=True, text=True, timeout=60)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["code"] in (0, None)
    assert outcome["loaded"] == []


def test_python_m_runs_the_cli_module_once(tmp_path):
    """`python -m newswire.cli` runs the commands of the imported module; its own copy's body
    (every import and command of it again) is not run."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "newswire.cli", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("newswire ")
    imported_by_main = {line.rsplit("| ", 1)[-1] for line in done.stderr.splitlines()
                        if line.startswith("import time:") and not line.rsplit("| ", 1)[-1].startswith(" ")}
    assert "newswire.cli" in imported_by_main
    assert not imported_by_main & {"typer", "rich.console", "asyncio"}  # newswire.cli's, not __main__'s


def test_the_server_commands_are_registered_from_their_own_module():
    from typer.main import get_command

    from newswire.cli import app

    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name in ("serve", "run", "demo", "worker"):
        assert commands[name].callback.__module__ == "newswire.cli_serve"


UNCHANGED_PROBE = """
import json, sys
from newswire.cli import app
try:
    app(["fetch", "--all", "--no-enrich", "--database", sys.argv[1]])
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "loaded": sorted(m for m in ("multiprocessing", "concurrent.futures.process")
                                                 if m in sys.modules)}))
"""


async def test_an_unchanged_pass_starts_no_parse_pool(tmp_path, feed_server):
    """Enough feeds for a pass to parse in worker processes, none changed: nothing to parse, so no
    pool is made, and multiprocessing (its imports, a resource tracker process) is not loaded."""
    url = f"sqlite:///{tmp_path / 'wire.db'}"
    store = Store(url)
    outlets = samples.make_outlets(8, seed=3, base_url=feed_server.base_url)
    for outlet in outlets:
        feed = samples.rss(outlet, samples.make_articles(outlet, 1, seed=1))
        store.add_source(feed_server.add(f"/{outlet.slug}/feed", feed))
    async with Fetcher(LOOPBACK) as fetcher, Refresher(store, fetcher) as refresher:
        first = await refresher.refresh_many(store.list_sources())
    store.close()
    assert [r.outcome for r in first] == ["fetched"] * 8
    env = {**os.environ, "NEWSWIRE_ALLOW_PRIVATE_ADDRESSES": "1", "NEWSWIRE_HOST_INTERVAL": "0"}
    done = subprocess.run([sys.executable, "-c", UNCHANGED_PROBE, url], capture_output=True, text=True,
                          timeout=60, env=env)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert "not modified: 8" in done.stdout
    assert outcome["code"] in (0, None)
    assert outcome["loaded"] == []
