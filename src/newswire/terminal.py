"""Text from feeds, made safe to show in a terminal.

A feed's title, byline or URL is written by a stranger. Printed raw, an escape sequence in it
can move the cursor, rewrite earlier lines, set the window title or plant a hyperlink to a
``file:`` URL, and square brackets would be read as rich markup (``[/]`` crashed ``newswire
sources``). Everything the CLI prints from a feed goes through here: control and formatting
characters become visible escapes, and the result is a rich ``Text``, which is never parsed as
markup.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from rich.style import Style
from rich.text import Text

# Control (Cc), format (Cf: bidi overrides, zero-width joiners) and line/paragraph separators.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: object) -> str:
    """``value`` as one line of printable characters: every control or format character shown
    as an escape (``\\x1b``, ``\\u202e``); a tab stays a space."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(" " if c == "\t" else _escape_char(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c
                   for c in text)


def text(value: object, style: str | Style = "") -> Text:
    """A rich ``Text`` of ``value`` made ``plain``: printed as is, never read as markup."""
    return Text(plain(value), style=style)


def link(url: str | None, style: str | Style = "") -> Text:
    """A URL shown as text and, when it is a web address, as a terminal hyperlink to itself;
    any other scheme (``file:``, ``javascript:``) is shown but not linked."""
    shown = plain(url)
    if url and shown == url and urlsplit(url).scheme.lower() in ("http", "https") and " " not in url:
        return Text(shown, style=Style.parse(style) + Style(link=url) if isinstance(style, str) and style
                    else Style(link=url))
    return Text(shown, style=style)


def line(*parts: str | Text) -> Text:
    """One printed line from literal strings (ours, printed as written) and ``Text`` pieces."""
    return Text.assemble(*parts)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 source``, ``2 sources``, ``0 sources``: a count with its noun in the right number."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
