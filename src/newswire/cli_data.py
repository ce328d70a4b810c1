"""``newswire purge``, ``export`` and ``backup``: the data an operator keeps, moves and restores.

    purge [--days N]        articles older than N days (default NEWSWIRE_RETENTION_DAYS) go now
    export [--since DATE]   every article with its fields, as JSON lines or one Atom document,
                            streamed a page at a time (memory stays flat whatever the count)
    backup FILE             a consistent copy of a live SQLite database (pg_dump for PostgreSQL)
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, Iterable, Iterator, Optional

import typer

from newswire.cli import DEFAULT_DB, DEFAULT_HOST, DEFAULT_PORT, Database, _fail, _opened, _settings, app, console
from newswire.config import SETTINGS
from newswire.errors import NewswireError
from newswire.models import Article
from newswire.terminal import counted


# purge

@app.command()
def purge(database: Database = DEFAULT_DB,
          days: Annotated[Optional[int], typer.Option(
              help="Purge articles published more than this many days ago (default: NEWSWIRE_RETENTION_DAYS)",
              min=1)] = None,
          vacuum: Annotated[bool, typer.Option(
              "--vacuum", help="SQLite made before retention existed: rewrite it once (VACUUM) so that purged "
                               "space goes back to the disk from now on")] = False) -> None:
    """Purge articles older than the retention period now, saved ones kept (`newswire run` does it hourly)."""
    from newswire.service import retention

    days = days or _settings().retention_days
    if not days:
        _fail(ValueError("give --days N, or set NEWSWIRE_RETENTION_DAYS"))
    try:
        SETTINGS["retention_days"].parse(str(days))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--days") from None
    cutoff = retention.cutoff_for(days)
    with _opened(database) as store:
        if vacuum and store.free_space()[1] in ("none", "full"):
            console.print("Rewriting the database with incremental auto-vacuum (VACUUM)…")
            store.enable_incremental_vacuum()
        summary = retention.purge(store, cutoff)
    gone = f"; {counted(summary.stories, 'story', 'stories')} left empty went with them" if summary.stories else ""
    console.print(f"Purged {counted(summary.articles, 'article')} published before "
                  f"{cutoff:%Y-%m-%d %H:%M} UTC (saved ones kept){gone}.", highlight=False)
    if summary.reclaimed_bytes:
        console.print(f"Gave {_size(summary.reclaimed_bytes)} back to the file system.", highlight=False)
    elif summary.vacuum_mode == "none":
        console.print("The database file keeps its size (new articles reuse the space); run "
                      "`newswire purge --vacuum` once, while nothing else uses it, to give purged space back "
                      "from now on.", highlight=False, soft_wrap=True)


def _size(number: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if number < 1000 or unit == "GB":
            return f"{number:.0f} {unit}" if unit == "bytes" else f"{number:.1f} {unit}"
        number /= 1000  # type: ignore[assignment]
    raise AssertionError("unreachable")


# export

class ExportFormat(str, Enum):
    jsonl = "jsonl"
    atom = "atom"


def _since(value: Optional[str]) -> Optional[datetime]:
    """A date (2025-09-17) or time (2025-09-17T12:00, with an offset or Z; UTC without one)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (2025-09-17) or time (2025-09-17T12:00Z)",
                                 param_hint="--since") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@app.command()
def export(database: Database = DEFAULT_DB,
           since: Annotated[Optional[str], typer.Option(
               help="Only articles published at or after this date or time (UTC unless it says)")] = None,
           format_: Annotated[ExportFormat, typer.Option("--format", help="JSON lines or one Atom document")]
           = ExportFormat.jsonl,
           output: Annotated[Optional[Path], typer.Option(
               "--output", "-o", help="Write here (replaced when complete) instead of stdout")] = None) -> None:
    """Write every article with its fields, oldest first, as JSON lines or Atom."""
    start = _since(since)
    settings = _settings(database)
    with _opened(database, OSError) as store, _destination(output) as out:
        articles = store.iter_articles(since=start)
        try:
            if format_ is ExportFormat.jsonl:
                count = write_jsonl(articles, out)
            else:
                count = write_atom(articles, out, (settings.base_url or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}") + "/")
        except BrokenPipeError:  # the reader has stopped (`| head`): stop too, without a word
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
    if output is not None:
        console.print(f"Exported {counted(count, 'article')} to {output}.", highlight=False)


@contextlib.contextmanager
def _destination(output: Optional[Path]) -> Iterator[IO[bytes]]:
    """stdout, or a file written beside ``output`` and renamed onto it once complete."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = output.with_name(f".{output.name}.part")
    try:
        with open(partial, "wb") as out:
            yield out
        os.replace(partial, output)
    finally:
        if partial.exists():
            partial.unlink()


def article_record(article: Article) -> dict:
    """An article as the API's ``/api/v1/articles/{id}`` gives it, plus what only the store
    keeps: guid, first-seen time, plain text, the feed's own content (``content_html`` is the
    page's text where it was extracted), extracted page text and extraction status."""
    from newswire.web.api import article_out
    from newswire.web.display import utc_iso

    record = article_out(article).model_dump(mode="json")
    record.update(guid=article.guid, first_seen_at=utc_iso(article.first_seen_at), text=article.text,
                  feed_content_html=article.content_html, page_html=article.page_html, extraction_status=article.extraction_status)
    return record


def write_jsonl(articles: Iterable[Article], out: IO[bytes]) -> int:
    """One JSON object per line per article; returns how many."""
    count = 0
    for article in articles:
        out.write(json.dumps(article_record(article), ensure_ascii=False).encode() + b"\n")
        count += 1
    return count


def write_atom(articles: Iterable[Article], out: IO[bytes], base_url: str) -> int:
    """One Atom document, written entry by entry as the articles come; returns how many."""
    from lxml import etree

    from newswire.web.display import utc_iso
    from newswire.web.feeds import ATOM_NS, Feed, atom_entry, atom_head

    feed = Feed(title="Newswire export", description=f"Every article, exported {datetime.now(timezone.utc):%Y-%m-%d}",
                self_url=f"{base_url}export.atom", home_url=base_url, base_url=base_url, items=())
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as document:
        document.write_declaration()
        with document.element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS}):
            for element in atom_head(feed):
                if element.tag == f"{{{ATOM_NS}}}updated":  # the feed's items are not known up front
                    element.text = utc_iso(datetime.now(timezone.utc))
                document.write(element)
            for article in articles:
                document.write(atom_entry(feed, article))
                count += 1
    return count


# backup

@app.command()
def backup(file: Annotated[Path, typer.Argument(help="Where to write the copy (replaced if it exists)")],
           database: Database = DEFAULT_DB) -> None:
    """Copy a live SQLite database consistently (for PostgreSQL, use pg_dump)."""
    from newswire.store.backup import backup_sqlite

    try:
        size = backup_sqlite(database, file)
    except NewswireError as error:
        _fail(error)
    console.print(f"Backed up to {file} ({_size(size)}); restore by putting it in place of the database "
                  "while Newswire is stopped.", highlight=False, soft_wrap=True)
