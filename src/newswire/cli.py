"""The ``newswire`` command line. Each command is a thin edge over ``service``: it parses
options, calls one service function and prints the outcome; errors are shown in words and
exit with status 1."""

from __future__ import annotations

if __name__ == "__main__":  # python -m newswire.cli: run the module as imported, where every command
    from newswire.cli import main as _imported_main  # registered, rather than this copy's body too

    _imported_main()
    raise SystemExit(0)

import asyncio
import contextlib
import re
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Iterator, NoReturn, Optional

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
from newswire.service.enrichment import command_enrichers
from newswire.service.update import Refresher, UpdateResult, default_parse_processes
from newswire.sources.redact import redact_text, redact_url
from newswire.store import Store
from newswire.models import Source
from newswire.terminal import counted, line, link, text

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Newswire: follow publishers' feeds and keep every article.")
console = Console()
err_console = Console(stderr=True)

Database = Annotated[str, typer.Option("--database", envvar="NEWSWIRE_DATABASE_URL",
                                       help="sqlite:///path or postgresql://user@host/db",
                                       show_default=True)]
DEFAULT_DB = str(SETTINGS["database_url"].default)
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
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
    from newswire.service import subscribe  # here: `fetch`, the commonest command, never loads discovery

    store = _open(database)

    async def go() -> tuple[Source, UpdateResult | None]:
        async with Fetcher(_settings(database), host_gate=store.host_gate()) as fetcher:
            source = await subscribe.follow(store, fetcher, url, name=name, full_text=full_text, category=category)
            if no_merge_stories:  # before the first articles are clustered
                await asyncio.to_thread(store.set_merge_stories, source.id, False)
            if not fetch_now:
                return source, None
            async with (command_enrichers(store) as steps,
                        Refresher(store, fetcher, enrichers=steps) as refresher):
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
    from newswire.service import subscribe

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
    from newswire.service import subscribe

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
              help="Detect syndicated copies and stories as articles are stored, unless the process that "
                   "enriches this database (`run`, `worker --enrich`) is running: then it does (--no-enrich "
                   "leaves them to the next process that enriches, which catches up)")] = True) -> None:
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

        async with (command_enrichers(store, enrich=enrich) as steps,
                    Refresher(store, settings=settings, parse_processes=default_parse_processes(len(targets)),
                              enrichers=steps) as refresher):
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
            async with Fetcher(_settings(database), host_gate=store.host_gate()) as fetcher:
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


def pass_line(results: list[UpdateResult]) -> str | None:
    """The log's one line for a pass that found something or failed somewhere; None for a
    quiet one (nothing new, nothing failed), so an idle wire leaves the log alone."""
    failed = sum(r.outcome == "failed" for r in results)
    new = sum(r.new for r in results)
    if not (new or failed):
        return None
    return (f"refreshed {counted(len(results), 'source')}: {counted(new, 'new article')}, "
            f"{counted(sum(r.updated for r in results), 'updated article')}, {failed} failed")


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



# Commands kept in modules of their own register themselves on ``app`` when imported.
from newswire import cli_serve, cli_data, cli_sources  # noqa: E402,F401


def main() -> None:
    app()
