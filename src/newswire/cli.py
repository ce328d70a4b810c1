"""The ``newswire`` command line. Each command is a thin edge over ``service``: it parses
options, calls one service function and prints the outcome; errors are shown in words and
exit with status 1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from newswire.config import SETTINGS, Settings
from newswire.errors import NewswireError
from newswire.sources.failures import failure_in_words
from newswire.fetch import Fetcher
from newswire.service import subscribe
from newswire.service.enrichment import default_enrichers
from newswire.service.update import Refresher, UpdateResult, default_parse_processes
from newswire.sources.redact import redact_text, redact_url
from newswire.store import Store
from newswire.models import Source
from newswire.terminal import counted, line, link, text

if TYPE_CHECKING:
    import uvicorn

    from newswire.service.retention import PurgeSummary

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Newswire: follow publishers' feeds and keep every article.")
console = Console()
err_console = Console(stderr=True)

Database = Annotated[str, typer.Option("--database", envvar="NEWSWIRE_DATABASE_URL",
                                       help="sqlite:///path or postgresql://user@host/db",
                                       show_default=True)]
DEFAULT_DB = str(SETTINGS["database_url"].default)
_loaded: list[Settings] = []  # the settings this process read at start (set by ``_read_settings``)


def _fail(error: Exception) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _print_version(wanted: bool) -> None:
    if wanted:
        from newswire import __version__

        console.print(f"newswire {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _read_settings(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit")] = False) -> None:
    """Read and check every NEWSWIRE_ setting once, before any command runs; a bad value stops
    here with one line naming the variable."""
    try:
        _loaded[:] = [Settings.from_env()]
    except NewswireError as error:
        _fail(error)


def _settings(database: str | None = None) -> Settings:
    """This process's settings, with the command's ``--database``."""
    settings = _loaded[0] if _loaded else Settings.from_env()
    return settings.with_changes(database_url=database) if database else settings


def _open(database: str) -> Store:
    try:
        return Store(database)
    except NewswireError as error:
        _fail(error)


@contextlib.contextmanager
def _opened(database: str, *also: type[Exception]) -> Iterator[Store]:
    """The store for one command's work, closed after it; a NewswireError (or one of ``also``)
    raised inside ends the command with its one line, never a traceback."""
    store = _open(database)
    try:
        yield store
    except (NewswireError, *also) as error:
        _fail(error)
    finally:
        store.close()


@app.command()
def add(url: str, database: Database = DEFAULT_DB,
        name: Annotated[Optional[str], typer.Option(help="Display name; default: the feed's title")] = None,
        full_text: Annotated[bool, typer.Option("--full-text", help="Fetch each article's page for its full text")] = False,
        category: Annotated[Optional[str], typer.Option(help="Category path, e.g. News/Canada")] = None,
        no_merge_stories: Annotated[bool, typer.Option(
            "--no-merge-stories", help="Keep this source's articles out of other sources' stories")] = False,
        fetch_now: Annotated[bool, typer.Option(
            "--fetch/--no-fetch", help="Fetch its articles now (--no-fetch: at the next `fetch` or by `run`)")] = True,
        ) -> None:
    """Follow a feed, or discover the feed of a site from its page, and fetch it at once."""
    store = _open(database)

    async def go() -> tuple[Source, UpdateResult | None]:
        async with Fetcher(_settings(database)) as fetcher:
            source = await subscribe.follow(store, fetcher, url, name=name, full_text=full_text, category=category)
            if no_merge_stories:  # before the first articles are clustered
                await asyncio.to_thread(store.set_merge_stories, source.id, False)
            if not fetch_now:
                return source, None
            async with Refresher(store, fetcher, enrichers=default_enrichers()) as refresher:
                return source, await refresher.refresh(source)

    try:
        source, first = asyncio.run(go())
    except NewswireError as error:
        _fail(error)
    finally:
        store.close()
    console.print(line("Following ", text(source.name, "bold"), f" as source #{source.id}: ", text(_shown_url(source.feed_url))),
                  highlight=False)
    if first is None:
        console.print("Not fetched yet: `newswire fetch` (or `newswire run`) fetches it.", highlight=False)
    elif first.outcome == "failed":
        console.print(line("The first fetch failed (", text(first.reason or "error"), "): ",
                           text(redact_text(first.error or "")), "; it is retried with backoff, and "
                           "`newswire sources` shows its health."), highlight=False)
    else:
        console.print(f"Fetched: {counted(first.new, 'new article')}.", highlight=False)


@app.command("import-opml")
def import_opml(file: Annotated[Optional[Path], typer.Argument(help="An OPML file")] = None,
                database: Database = DEFAULT_DB,
                starter: Annotated[bool, typer.Option(
                    "--starter", help="Follow the shipped starter list of major Canadian publishers")] = False,
                ) -> None:
    """Follow every feed in an OPML file (nested outlines become categories), or the starter list."""
    if (file is None) == (not starter):
        _fail(ValueError("give an OPML FILE or --starter, not both" if starter else "give an OPML FILE or --starter"))
    with _opened(database, OSError) as store:
        if starter:
            from newswire.sources.starter import starter_opml_bytes

            data = starter_opml_bytes()
        else:
            assert file is not None
            data = file.read_bytes()
        summary = subscribe.import_opml(store, data, _settings())
    skipped = f"; skipped {summary.skipped} whose URL is not http(s)" if summary.skipped else ""
    console.print(f"Imported {summary.added} feeds ({summary.already_followed} already followed{skipped}).")


@app.command("export-opml")
def export_opml(file: Annotated[Optional[Path], typer.Argument(help="Write here instead of stdout")] = None,
                database: Database = DEFAULT_DB) -> None:
    """Write the followed feeds as OPML, with their names and categories."""
    with _opened(database, OSError) as store:
        document = subscribe.export_opml(store)
        if file:
            file.write_text(document, encoding="utf-8")
        else:
            sys.stdout.write(document)


def _shown_url(url: str) -> str:
    """A URL as shown: without the password or token it may carry (export-opml keeps them)."""
    return redact_url(url)


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    text = (f"{int(span)}s" if span < 90 else f"{int(span // 60)}m" if span < 5400
            else f"{int(span // 3600)}h" if span < 172800 else f"{int(span // 86400)}d")
    return f"in {text}" if seconds > 0 else f"{text} ago"


@app.command()
def sources(database: Database = DEFAULT_DB) -> None:
    """Show each source with its health."""
    with _opened(database) as store:
        rows = store.list_sources()
    if not rows:
        console.print("No sources yet: add one with [bold]newswire add URL[/].")
        return
    now = datetime.now(timezone.utc)
    table = Table(show_lines=False)
    for column in ("ID", "Name", "Feed URL", "Last fetch", "Status", "Failures", "Last error", "Next due", "Articles"):
        table.add_column(column, overflow="fold")
    for s in rows:
        status = s.last_status or "new"
        if not s.enabled:
            status += " (disabled)"
        next_due = "paused" if not s.enabled else ("now" if s.next_due_at is None or s.next_due_at <= now
                                                    else _ago(s.next_due_at, now))
        table.add_row(str(s.id), text(s.name), text(_shown_url(s.feed_url)), _ago(s.last_fetched_at, now),
                      text(status), str(s.consecutive_failures),
                      text(failure_in_words(s.last_status, s.last_error) if s.last_error else ""), next_due,
                      str(s.article_count))
    console.print(table)


@app.command()
def fetch(database: Database = DEFAULT_DB,
          source: Annotated[Optional[int], typer.Option("--source", help="Only this source ID")] = None,
          all_: Annotated[bool, typer.Option("--all", help="Ignore due times")] = False,
          enrich: Annotated[bool, typer.Option(
              "--enrich/--no-enrich",
              help="Detect syndicated copies and stories as articles are stored (--no-enrich leaves "
                   "them to the next pass that enriches, or to `newswire run`, which catch up)")] = True) -> None:
    """Fetch due sources once, store new articles, and print a summary."""
    store = _open(database)
    try:
        if source is not None:
            targets = [store.get_source(source)]
        else:
            targets = store.due_sources(datetime.now(timezone.utc), include_all=all_)
    except NewswireError as error:
        store.close()
        _fail(error)
    started = time.perf_counter()
    results = asyncio.run(_fetch_with_progress(store, targets, enrich, _settings(database)))
    store.close()
    _print_summary(results, time.perf_counter() - started)
    if results and all(r.outcome == "failed" for r in results):
        _fail(NewswireError(f"every source failed ({len(results)}); `newswire sources` shows why"))


async def _fetch_with_progress(store: Store, targets: list, enrich: bool,
                               settings: Settings) -> list[UpdateResult]:
    progress = Progress(TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[new]} new"), console=err_console, transient=False)
    with progress:
        task = progress.add_task("fetch", total=len(targets), new=0)
        new_so_far = 0

        def done(result: UpdateResult) -> None:
            nonlocal new_so_far
            new_so_far += result.new
            progress.update(task, advance=1, new=new_so_far)

        async with Refresher(store, settings=settings, parse_processes=default_parse_processes(len(targets)),
                             enrichers=default_enrichers(copies_and_stories=enrich)) as refresher:
            return await refresher.refresh_many(targets, on_done=done)


def _print_summary(results: list[UpdateResult], elapsed: float) -> None:
    outcomes = Counter(r.outcome for r in results)
    failures = Counter(r.reason for r in results if r.outcome == "failed")
    by_reason = ", ".join(f"{reason}: {n}" for reason, n in failures.most_common())
    console.print(
        f"fetched: {outcomes['fetched']}  not modified: {outcomes['not-modified']}  "
        f"failed: {outcomes['failed']}{f' ({by_reason})' if by_reason else ''}\n"
        f"new articles: {sum(r.new for r in results)}  updated articles: {sum(r.updated for r in results)}  "
        f"elapsed: {elapsed:.2f}s", highlight=False)


@app.command()
def extract(database: Database = DEFAULT_DB,
            source: Annotated[Optional[int], typer.Option("--source", help="Only this source ID")] = None) -> None:
    """Re-extract full text from article pages now: all of one source's articles, or every
    article of a full-text source and every one extracted or queued before."""
    from newswire.service import fulltext

    store = _open(database)
    progress = Progress(TextColumn("extracting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=False)

    async def go() -> fulltext.ExtractionSummary:
        with progress:
            task = progress.add_task("extract", total=None)
            async with Fetcher(_settings(database)) as fetcher:
                return await fulltext.reextract(
                    store, fetcher, now=datetime.now(timezone.utc), source_id=source,
                    on_queued=lambda n: progress.update(task, total=n),
                    on_done=lambda job, outcome: progress.update(task, advance=1))

    try:
        summary = asyncio.run(go())
    except NewswireError as error:
        _fail(error)
    finally:
        store.close()
    by_reason = ", ".join(f"{reason}: {n}" for reason, n in summary.reasons.most_common())
    console.print(f"done: {summary.done}  failed: {summary.failed + summary.retrying}"
                  f"{f' ({by_reason})' if by_reason else ''}  will retry: {summary.retrying}"
                  + (f"\nteaser feeds switched to full text: {len(summary.teaser_sources)}"
                     if summary.teaser_sources else ""), highlight=False)


@app.command()
def search(query: str, database: Database = DEFAULT_DB,
           limit: Annotated[int, typer.Option(help="Most results shown")] = 20) -> None:
    """Full-text search over titles, authors and text, best matches first."""
    from newswire.web.display import display_zone, format_when

    with _opened(database, ValueError) as store:
        zone = display_zone(_settings().timezone)
        hits = store.search(query, limit=limit)
    if not hits:
        console.print(line("No articles match ", text(repr(query)), "."), highlight=False)
        return
    for hit in hits:
        authors = ", ".join(hit.authors)
        console.print(line(text(hit.title, "bold"), "  ", text(f"#{hit.article_id}", "dim")), highlight=False)
        console.print(line("  ", format_when(hit.published_at, zone), " | ", text(authors),
                           " | " if authors else "", text(hit.source_name)), highlight=False)
        console.print(line("  ", _snippet(hit.snippet)), highlight=False)
        if hit.url:
            console.print(line("  ", link(hit.url)), highlight=False)


def _snippet(html_snippet: str) -> Text:
    """The store's snippet is HTML with <mark> around matches; show matches in bold."""
    import html

    out = Text()
    bold = False
    for part in re.split(r"(</?mark>)", html_snippet):
        if part in ("<mark>", "</mark>"):
            bold = part == "<mark>"
            continue
        out.append_text(text(html.unescape(part), "bold yellow" if bold else ""))
    return out


users_app = typer.Typer(no_args_is_help=True, help="Accounts: readers and admins.")
app.add_typer(users_app, name="user")
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input (for scripts)")]


def _password(from_stdin: bool) -> str:
    """A new password: the first line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def user_add(name: str, database: Database = DEFAULT_DB,
             admin: Annotated[bool, typer.Option("--admin", help="May change sources and users")] = False,
             password_stdin: PasswordStdin = False) -> None:
    """Create an account; the password is asked for twice (or read with --password-stdin)."""
    from newswire import accounts

    with _opened(database) as store:
        user = accounts.create_user(store, name, _password(password_stdin), admin=admin)
    console.print(line("Created ", "admin " if user.is_admin else "user ", text(user.name, "bold"), "."),
                  highlight=False)


@users_app.command("passwd")
def user_passwd(name: str, database: Database = DEFAULT_DB, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; every session of theirs ends (API tokens stay)."""
    from newswire import accounts

    with _opened(database) as store:
        if accounts.find_user(store, name) is None:
            raise NewswireError(f"no user {name!r}")
        accounts.set_password(store, name, _password(password_stdin))
    console.print(line("Password changed for ", text(name, "bold"), "; their sessions have ended."),
                  highlight=False)


@users_app.command("list")
def user_list(database: Database = DEFAULT_DB) -> None:
    """Show every account."""
    from newswire import accounts

    with _opened(database) as store:
        users = accounts.list_users(store)
    if not users:
        console.print("No users yet: add one with [bold]newswire user add NAME --admin[/].")
        return
    table = Table()
    for column in ("ID", "Name", "Role", "Created"):
        table.add_column(column)
    for user in users:
        table.add_row(str(user.id), text(user.name), "admin" if user.is_admin else "reader",
                      user.created_at.strftime("%Y-%m-%d %H:%M UTC"))
    console.print(table)


@users_app.command("remove")
def user_remove(name: str, database: Database = DEFAULT_DB) -> None:
    """Delete an account with its sessions and API tokens."""
    from newswire import accounts

    with _opened(database) as store:
        accounts.remove_user(store, name)
    console.print(line("Removed ", text(name, "bold"), "."), highlight=False)


@users_app.command("token")
def user_token(name: str, database: Database = DEFAULT_DB,
               label: Annotated[str, typer.Option(help="What the token is for, e.g. the app's name")] = "") -> None:
    """Make a new API token for a user and print it (once: only its hash is kept)."""
    from newswire import accounts

    with _opened(database) as store:
        user = accounts.find_user(store, name)
        if user is None:
            raise NewswireError(f"no user {name!r}")
        token = accounts.create_token(store, user.id, label)
    sys.stdout.write(token + "\n")


Host = Annotated[str, typer.Option("--host", help="Address to listen on")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on")]
AccessLog = Annotated[bool, typer.Option(
    "--access-log", help="Log one line per HTTP request (also NEWSWIRE_ACCESS_LOG=1)")]
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000


def _server_settings(database: str, access_log: bool) -> Settings:
    settings = _settings(database)
    return settings.with_changes(access_log=True) if access_log else settings


@app.command()
def serve(database: Database = DEFAULT_DB, host: Host = DEFAULT_HOST, port: Port = DEFAULT_PORT,
          access_log: AccessLog = False,
          workers: Annotated[int, typer.Option(
              help="Web server processes sharing the port (about one per core: a process runs one "
                   "page's Python at a time)", min=1, max=64)] = 1) -> None:
    """Serve the web reader and the API only; another process keeps the sources fresh."""
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
    from newswire.worker import run_worker, worker_name

    store = _open(database)
    owner = worker_name()
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
        access_log: AccessLog = False) -> None:
    """Keep every source fresh on its own schedule and serve the newswire, until Ctrl-C or SIGTERM."""
    store = _open(database)
    listener = _listen(host, port)
    count = len(store.list_sources())
    console.print(f"Newswire is following {counted(count, 'source')} in {_shown_url(database)}.", highlight=False,
                  soft_wrap=True)
    if not count:
        console.print("Add one with [bold]newswire add URL[/], [bold]newswire import-opml --starter[/], "
                      "or try [bold]newswire demo[/].", soft_wrap=True)
    console.print(f"Open {_url(listener)} ; press Ctrl-C to stop.", highlight=False, soft_wrap=True)
    _run_until_stopped(store, listener, _server_settings(database, access_log), host, schedule=True)


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


def pass_line(results: list[UpdateResult]) -> str | None:
    """The log's one line for a pass that found something or failed somewhere; None for a
    quiet one (nothing new, nothing failed), so an idle wire leaves the log alone."""
    failed = sum(r.outcome == "failed" for r in results)
    new = sum(r.new for r in results)
    if not (new or failed):
        return None
    return (f"refreshed {counted(len(results), 'source')}: {counted(new, 'new article')}, "
            f"{counted(sum(r.updated for r in results), 'updated article')}, {failed} failed")


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
            asyncio.run(_serve(store, listener, settings, host, schedule=schedule, setup_token=setup_token))
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


async def _serve(store: Store, listener: socket.socket, settings: Settings, host: str, *,
                 schedule: bool, setup_token: str | None = None) -> None:
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
                                                       on_role=_report_role),
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


# Commands kept in modules of their own register themselves on ``app`` when imported.
from newswire import cli_data, cli_sources  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":  # python -m newswire.cli: run the imported module, where every command registered
    from newswire.cli import main as imported_main

    imported_main()
