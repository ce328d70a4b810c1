"""``newswire remove|pause|resume|edit SOURCE``: change one followed source from the command line.

A source is named by its id (as ``newswire sources`` lists it) or by its exact feed URL, so a
script can act on the URL it added without looking the id up first.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from newswire.cli import DEFAULT_DB, Database, _opened, _shown_url, app, console
from newswire.errors import NotFound
from newswire.models import Source
from newswire.store import Store
from newswire.terminal import counted, line, text

SourceRef = Annotated[str, typer.Argument(metavar="SOURCE", help="The source's id or its feed URL")]


def find_source(store: Store, ref: str) -> Source:
    """The source named by id or exact feed URL. Raises NotFound naming what was asked for."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():
        try:
            return store.get_source(int(ref))
        except NotFound:
            raise NotFound(f"no source #{ref}; `newswire sources` lists them") from None
    found = store.find_source(ref)
    if found is None:
        raise NotFound(f"no source with the feed URL {_shown_url(ref)}; `newswire sources` lists them")
    return found


def _said(verb: str, source: Source, extra: str = "") -> None:
    console.print(line(verb, " ", text(source.name, "bold"), f" (#{source.id}){extra}."), highlight=False)


@app.command()
def remove(source: SourceRef, database: Database = DEFAULT_DB) -> None:
    """Unfollow a source and delete its articles (copies of them elsewhere are kept)."""
    with _opened(database) as store:
        found = find_source(store, source)
        articles = store.article_count(found.id)
        store.remove_source(found.id)
    _said("Removed", found, f" and its {counted(articles, 'article')}")


@app.command()
def pause(source: SourceRef, database: Database = DEFAULT_DB) -> None:
    """Stop fetching a source; its articles stay."""
    with _opened(database) as store:
        found = find_source(store, source)
        store.set_enabled(found.id, False)
    _said("Paused", found, "; `newswire resume` fetches it again")


@app.command()
def resume(source: SourceRef, database: Database = DEFAULT_DB) -> None:
    """Fetch a paused source again, on its schedule."""
    with _opened(database) as store:
        found = find_source(store, source)
        store.set_enabled(found.id, True)
    _said("Resumed", found)


@app.command()
def edit(source: SourceRef, database: Database = DEFAULT_DB,
         name: Annotated[Optional[str], typer.Option(help="A new display name")] = None,
         category: Annotated[Optional[str], typer.Option(help='Category path, e.g. News/Canada ("" for none)')] = None,
         full_text: Annotated[Optional[bool], typer.Option(
             "--full-text/--no-full-text", help="Fetch each new article's page for its full text")] = None,
         merge_stories: Annotated[Optional[bool], typer.Option(
             "--merge-stories/--no-merge-stories", help="Let its articles join other sources' stories")] = None,
         ) -> None:
    """Change a source's name, category, full-text fetching or story merging."""
    changes: dict[str, object] = {}
    if name is not None:
        if not name.strip():
            raise typer.BadParameter("a name cannot be empty", param_hint="--name")
        changes["name"] = name.strip()
    if category is not None:
        changes["category"] = category.strip().strip("/") or None
    if full_text is not None:
        changes["full_text"] = full_text
    if merge_stories is not None:
        changes["merge_stories"] = merge_stories
    if not changes:
        raise typer.BadParameter("nothing to change: give --name, --category, --[no-]full-text or "
                                 "--[no-]merge-stories", param_hint="SOURCE")
    with _opened(database) as store:
        found = find_source(store, source)
        store.change_source(found.id, changes)
        changed = store.get_source(found.id)
    _said("Changed", changed, ": " + ", ".join(sorted(changes)))
