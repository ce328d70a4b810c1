"""``newswire serve|run|demo|worker``: the commands that keep running, and what they share.

    serve    the web reader and API only
    run      the web reader and the scheduler on one event loop (one process does everything)
    demo     ``run`` over fictional outlets served on 127.0.0.1, in a temporary database
    worker   a fetch worker for the PostgreSQL deployment (no web server)

They bind their socket before starting anything (a busy port is an error at once), stop on
SIGINT/SIGTERM after the writes in flight, and log one line per pass that found something.
uvicorn and the web app are imported only when a server starts: the short commands' start-up
is part of every unchanged pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import socket
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, NoReturn, Optional

import typer

from newswire.cli import (DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, Database, _fail, _open, _settings, _shown_url,
                          app, console, pass_line)
from newswire.config import Settings
from newswire.errors import NewswireError
from newswire.malloc import fewer_arenas, map_large_blocks
from newswire.service.update import UpdateResult
from newswire.store import Store
from newswire.terminal import counted

if TYPE_CHECKING:
    import uvicorn

    from newswire.service.retention import PurgeSummary


Host = Annotated[str, typer.Option("--host", help="Address to listen on")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on")]
AccessLog = Annotated[bool, typer.Option(
    "--access-log", help="Log one line per HTTP request (also NEWSWIRE_ACCESS_LOG=1)")]
Workers = Annotated[int, typer.Option(
    help="Web server processes sharing the port, about one per core (a process runs one page's Python "
         "at a time); with `run`, the first also schedules and enriches, the others only serve",
    min=1, max=64)]


def _server_settings(database: str, access_log: bool) -> Settings:
    settings = _settings(database)
    return settings.with_changes(access_log=True) if access_log else settings


@app.command()
def serve(database: Database = DEFAULT_DB, host: Host = DEFAULT_HOST, port: Port = DEFAULT_PORT,
          access_log: AccessLog = False,
          workers: Workers = 1) -> None:
    """Serve the web reader and the API only; another process keeps the sources fresh."""
    fewer_arenas()
    map_large_blocks()
    store = _open(database)
    listener = _listen(host, port)
    processes = f" with {workers} processes" if workers > 1 else ""
    console.print(f"Newswire is serving {_shown_url(database)} at {_url(listener)}{processes} ; press Ctrl-C to stop.",
                  highlight=False, soft_wrap=True)
    _run_until_stopped(store, listener, _server_settings(database, access_log), host, schedule=False,
                       workers=workers)


@app.command()
def worker(database: Database = DEFAULT_DB,
           enrich: Annotated[bool, typer.Option(
               "--enrich", help="Also run copy detection and story clustering over what every worker "
                                "stores, when no other worker does: a second --enrich worker waits and "
                                "takes over if the first dies")] = False,
           batch: Annotated[int, typer.Option(help="Most sources this worker refreshes at once (each claimed when due)", min=1, max=500)] = 20,
           lease: Annotated[int, typer.Option(help="Seconds a claim (of a source, or of a page to extract) lasts if the worker dies", min=30)] = 600,
           ) -> None:
    """A fetch worker for the PostgreSQL deployment: claims due sources (one worker each at a
    time), refreshes them, and stops cleanly on SIGINT/SIGTERM."""
    from newswire.metrics import process_name
    from newswire.worker import run_worker

    fewer_arenas()
    map_large_blocks()
    store = _open(database)
    owner = process_name()
    role = " (--enrich: enriches while no other worker does)" if enrich else ""
    console.print(f"Worker {owner} on {_shown_url(database)}{role}; press Ctrl-C to stop.", highlight=False)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(store, stop, owner=owner, batch=batch, lease_seconds=lease, enrich=enrich,
                         settings=_settings(database), on_pass=_report_pass, on_purge=_report_purge,
                         on_role=_report_role)

    try:
        asyncio.run(go())
    finally:
        store.close()
    console.print("Stopped cleanly.")


@app.command()
def run(database: Database = DEFAULT_DB, host: Host = DEFAULT_HOST, port: Port = DEFAULT_PORT,
        access_log: AccessLog = False, workers: Workers = 1) -> None:
    """Keep every source fresh on its own schedule and serve the newswire, until Ctrl-C or SIGTERM."""
    fewer_arenas()
    map_large_blocks()
    store = _open(database)
    listener = _listen(host, port)
    count = len(store.list_sources())
    console.print(f"Newswire is following {counted(count, 'source')} in {_shown_url(database)}.", highlight=False,
                  soft_wrap=True)
    if not count:
        console.print("Add one with [bold]newswire add URL[/], [bold]newswire import-opml --starter[/], "
                      "or try [bold]newswire demo[/].", soft_wrap=True)
    processes = f" ({workers} web server processes)" if workers > 1 else ""
    console.print(f"Open {_url(listener)}{processes} ; press Ctrl-C to stop.", highlight=False, soft_wrap=True)
    _run_until_stopped(store, listener, _server_settings(database, access_log), host, schedule=True,
                       workers=workers)


@app.command()
def demo(database: Annotated[Optional[str], typer.Option(
             "--database", help="Keep the demo here (default: a new temporary SQLite file)")] = None,
         host: Host = DEFAULT_HOST, port: Port = DEFAULT_PORT,
         interval: Annotated[float, typer.Option(help="Seconds between two bursts of demo news")] = 3.0,
         access_log: AccessLog = False) -> None:
    """An offline demo: fictional outlets publish on 127.0.0.1 and Newswire follows them live."""
    with contextlib.ExitStack() as cleanup:
        if database is None:  # a folder of its own, removed on the way out, however the demo ends
            folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="newswire-demo-",
                                                                       ignore_cleanup_errors=True))
            signal.signal(signal.SIGTERM, _interrupt)  # until the server's own handlers take over
            database = f"sqlite:///{Path(folder) / 'demo.db'}"
        _demo(database, host, port, interval, access_log)


def _interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _demo(database: str, host: str, port: int, interval: float, access_log: bool) -> None:
    from newswire.demo import DemoFeeds, demo_settings
    from newswire.service import subscribe

    store = _open(database)
    listener = _listen(host, port)
    with DemoFeeds(interval=interval) as feeds:
        try:
            settings = demo_settings(_server_settings(database, access_log))
            summary = subscribe.import_opml(store, feeds.opml_bytes(), settings)
        except NewswireError as error:
            store.close()
            _fail(error)
        console.print(f"Demo: {len(feeds.feed_urls())} fictional outlets publishing on {feeds.base_url} "
                      f"(new stories every {interval:g}s), followed in {database} "
                      f"({summary.added} new sources).", highlight=False, soft_wrap=True)
        console.print(f"Open {_url(listener)} ; press Ctrl-C to stop.", highlight=False, soft_wrap=True)
        _run_until_stopped(store, listener, settings, host, schedule=True)


def _listen(host: str, port: int) -> socket.socket:
    """Bind the web server's socket now, so a busy port is an error before anything starts."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        listener = socket.create_server((host, port), family=family)
        # Accepted connections inherit this: without it a response written in two parts waits
        # for the client's delayed ACK, 40 ms a request on Linux.
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return listener
    except OSError as error:
        _fail(OSError(f"cannot listen on {host}:{port}: {error.strerror or error}"))


def _url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _report_pass(results: list[UpdateResult]) -> None:
    said = pass_line(results)
    if said:
        console.print(f"{datetime.now().strftime('%H:%M:%S')} {said}", highlight=False)


ROLE_LINES = {"waiting": "another process is enriching; this one fetches and takes over if that one stops",
              "enriching": "enriching: copy detection and story clustering over every process's articles",
              "lost": "lost the enricher lock; asking for it again"}


def _report_role(role: str) -> None:
    console.print(f"{datetime.now().strftime('%H:%M:%S')} {ROLE_LINES.get(role, role)}", highlight=False)


def _report_purge(summary: PurgeSummary) -> None:
    gone = f" and {counted(summary.stories, 'story', 'stories')} left empty" if summary.stories else ""
    console.print(f"{datetime.now().strftime('%H:%M:%S')} purged {counted(summary.articles, 'article')} "
                  f"older than the retention period{gone}", highlight=False)


def _run_until_stopped(store: Store, listener: socket.socket, settings: Settings, host: str, *,
                       schedule: bool, workers: int = 1) -> None:
    """Serve (and schedule) until SIGINT/SIGTERM, then close everything and say so. With
    ``workers`` > 1, that many processes serve (``web_processes``); this one alone schedules."""
    from newswire import web_processes

    setup_token = None if store.has_admin() else secrets.token_urlsafe(24)  # one for every process

    def serve_too() -> None:  # in a forked child: quiet, its own connections, no scheduler
        console.quiet = True
        store.forget_connections()
        try:
            asyncio.run(_serve(store, listener, settings, host, schedule=False, setup_token=setup_token))
        finally:
            store.close()

    try:
        with web_processes.forked(workers - 1, serve_too):
            asyncio.run(_serve(store, listener, settings, host, schedule=schedule, setup_token=setup_token,
                               share_metrics=workers > 1))
    except NewswireError as error:
        _fail(error)
    finally:
        listener.close()
        store.close()
    console.print("Stopped cleanly.")


def _offer_first_admin(app, token: str | None, base: str) -> None:
    """With no admin yet (a ``token``), print a one-time link whose page makes the first one
    (the token lives in this run's processes only, and dies when used)."""
    if token is None:
        return
    app.state.setup_token = token
    console.print(f"No admin yet, so nothing can be changed through the web. To make the first admin, open "
                  f"{base}/setup/{token} (works once, while this process runs), or run "
                  f"newswire user add NAME --admin", highlight=False, soft_wrap=True)


def _server(app, settings: Settings) -> "uvicorn.Server":
    """uvicorn's server without its own signal handling: ours stops the web server and the
    scheduler together (uvicorn's would re-raise the signal after shutting down). uvicorn logs
    problems only; one line per request with NEWSWIRE_ACCESS_LOG=1 (``--access-log``).
    uvicorn is imported here, not with the module: `fetch` and the other short commands do not
    serve, and their start-up is part of every unchanged pass."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

        def install_signal_handlers(self) -> None:  # uvicorn < 0.29
            pass

    config = uvicorn.Config(app, log_level="warning", access_log=settings.access_log, timeout_graceful_shutdown=5)
    if settings.access_log:  # uvicorn's start-up chatter stays at warning; requests are logged
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    return Server(config)


HEAP_SETTLES_AFTER = 60.0  # seconds


def _freeze_heap() -> None:
    """Leave what exists now out of the garbage collector's full passes (``gc.freeze``): the
    imports, the app, compiled templates and statements live as long as the process, yet each
    full pass walked all of them, about 100 ms with every page in flight waiting (a page's
    p99). Garbage is collected first, so none is kept for good."""
    gc.collect()
    gc.freeze()


async def _serve(store: Store, listener: socket.socket, settings: Settings, host: str, *,
                 schedule: bool, setup_token: str | None = None, share_metrics: bool = False) -> None:
    """The web server and, with ``schedule``, the scheduler, as two tasks on one event loop.
    SIGINT/SIGTERM stop both: the server stops accepting and closes its connections (5 s
    grace), the scheduler's pass in flight finishes its writes. Another signal a second later
    stops the server at once; the writes in flight still finish."""
    from newswire.scheduler import run_scheduler
    from newswire.service.refresh_now import RefreshRequests
    from newswire.web import create_app

    # Requests may name the server as it was asked to listen (--host) or by the address it got.
    app = create_app(store, settings, bound_hosts=(host, str(listener.getsockname()[0])))
    _offer_first_admin(app, setup_token, settings.base_url or _url(listener))
    requests = RefreshRequests()  # the web admin's new sources are fetched by the scheduler
    if schedule:
        app.state.refresh_requests = requests
    server = _server(app, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    _freeze_heap()
    loop.call_later(HEAP_SETTLES_AFTER, _freeze_heap)  # again once the first pages filled the caches
    first_signal: list[float] = []

    def shut_down() -> None:
        # Only a signal a second later is the user insisting, not an echo of the first one.
        if not first_signal:
            first_signal.append(loop.time())
            console.print("Stopping: letting the writes in flight finish…")
        elif loop.time() - first_signal[0] > 1.0:
            server.force_exit = True
        stop.set()
        server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shut_down)
    tasks = [asyncio.create_task(server.serve(sockets=[listener]), name="web")]
    if schedule:
        tasks.append(asyncio.create_task(run_scheduler(store, stop, settings=settings, on_pass=_report_pass,
                                                       requests=requests, on_purge=_report_purge,
                                                       on_role=_report_role, share_metrics=share_metrics),
                                         name="scheduler"))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        stop.set()  # one ended (stopped, or failed): end the other too
        server.should_exit = True
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
