"""Deeply nested HTML flattened before any tree builder sees it, in one linear pass.

The tree builders we hand HTML to pay per level of nesting: under nh3, html5ever's cost grew
faster than quadratically with depth (10k nested ``<div>`` 0.43 s, 60k 30 s), and libxml2 under
lxml and trafilatura silently drops everything below 256 levels. No article needs more than a few
dozen levels, so ``flatten_nesting`` drops the start and end tags of elements nested deeper than
``MAX_DEPTH`` and keeps their text.

It is a tokenizer pass with a stack of open elements, never a tree: each tag is looked at once
and each element pushed and popped at most once. It follows the HTML parsing rules that matter
for depth (void elements, the implied end of ``p``/``li``/``dt``/``dd``/``td``/``th``/``tr``/
``option``, the implied ``tbody``, raw-text elements whose content is not markup) closely
enough, and where HTML's own rules would nest deeper than it counts — an end tag that crosses
open elements (``<span><div></span>``, which HTML ignores; ``<div><b></div>``, whose ``b`` HTML
reopens) — it writes the crossed elements' end tags, so the parser after it nests no deeper than
it counted. Besides those end tags it only removes tags, and a ``<`` left bare just before a
removed tag is escaped so no new tag can form: the sanitiser that runs after it still decides what is
safe. Well-nested HTML, and anything short of the limit without misnesting, comes back unchanged.
"""

from __future__ import annotations

import re

MAX_DEPTH = 200  # below libxml2's 256, so lxml and trafilatura keep what is under it too

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link",
                   "meta", "param", "source", "track", "wbr"})
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                       "noframes", "noscript"})
_BLOCKS = ("address", "article", "aside", "blockquote", "details", "dialog", "div", "dl",
           "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
           "header", "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "table", "ul")
# A start tag of the key ends open elements of these names at the top of the stack.
_IMPLIED_END: dict[str, frozenset[str]] = {
    **{block: frozenset({"p"}) for block in _BLOCKS},
    "li": frozenset({"li", "p"}),
    "dt": frozenset({"dt", "dd", "p"}),
    "dd": frozenset({"dt", "dd", "p"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    "option": frozenset({"option"}),
}
# Elements whose end HTML implies when their parent ends: never written out when we close them.
_ENDED_BY_PARENT = frozenset({"dd", "dt", "li", "optgroup", "option", "p", "rb", "rp", "rt", "rtc",
                              "caption", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr"})
# Elements HTML inserts between a parent and a child (a table row always sits in a tbody).
_IMPLIED_PARENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("table", "tr"): ("tbody",),
    ("table", "td"): ("tbody", "tr"), ("table", "th"): ("tbody", "tr"),
    **{(section, cell): ("tr",) for section in ("tbody", "thead", "tfoot") for cell in ("td", "th")},
}
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"                                  # a comment
    r"|<[!?][^>]*>?"                                     # a doctype or a bogus comment
    r"|<(/?)([A-Za-z][^\s/>]*)"                          # 1: "/" of an end tag, 2: the name
    r"(?:[^>\"']+|\"[^\"]*\"|'[^']*')*>?",               # attributes; quoted values may hold ">"
    re.S)
_RAW_END = {name: re.compile(rf"</{name}[\s/>]", re.I) for name in _RAW_TEXT}


def flatten_nesting(html: str, max_depth: int = MAX_DEPTH) -> str:
    """``html`` without the tags of elements nested deeper than ``max_depth`` (their text kept).
    Linear in the length of ``html``; returns ``html`` itself when nothing is that deep."""
    if html.count("<") <= max_depth:  # it cannot be deeper than it has tags
        return html
    edits = _Depth(html, max_depth).edits()
    return _apply(html, edits) if edits else html


Edit = tuple[int, int, str]  # replace html[start:end] with the text (start == end: insert)


class _Depth:
    """One pass over the tags of a document with a stack of its open elements, collecting the
    edits that keep it within ``max_depth``: drop a tag too deep, write the end tags of open
    elements an end tag crosses."""

    def __init__(self, html: str, max_depth: int):
        self.html = html
        self.max_depth = max_depth
        self.stack: list[tuple[str, bool]] = []  # open elements: (name, tag kept)
        self.open_by_name: dict[str, int] = {}
        self.out: list[Edit] = []

    def edits(self) -> list[Edit]:
        html, pos = self.html, 0
        while (match := _TOKEN.search(html, pos)) is not None:
            pos = match.end()
            name = match.group(2)
            if name is None:  # a comment or a declaration
                continue
            name = name.lower()
            if match.group(1):
                self._end(name, match.start(), pos)
            elif name == "plaintext":  # the rest of the document is text
                break
            elif name in _RAW_TEXT:  # a leaf whose content is text, not markup: kept, however deep
                self._implied_ends(name)
                end = _RAW_END[name].search(html, pos)
                pos = end.start() if end is not None else len(html)  # its end tag: a stray one next
            else:
                self._start(name, match.start(), pos)
        return self.out

    def _push(self, name: str) -> bool:
        kept = len(self.stack) < self.max_depth
        self.stack.append((name, kept))
        self.open_by_name[name] = self.open_by_name.get(name, 0) + 1
        return kept

    def _pop(self) -> tuple[str, bool]:
        name, kept = self.stack.pop()
        self.open_by_name[name] -= 1
        return name, kept

    def _implied_ends(self, name: str) -> None:
        ends = _IMPLIED_END.get(name)
        while ends and self.stack and self.stack[-1][0] in ends:
            self._pop()

    def _start(self, name: str, start: int, end: int) -> None:
        self._implied_ends(name)
        if name in _VOID:
            return
        top = self.stack[-1][0] if self.stack else ""
        for implied in _IMPLIED_PARENTS.get((top, name), ()):  # counted, not written: HTML adds them
            self._push(implied)
        if not self._push(name):
            self.out.append((start, end, ""))

    def _end(self, name: str, start: int, end: int) -> None:
        if not self.open_by_name.get(name):
            return  # a stray end tag: the parser after us decides
        crossed = []
        while True:
            top, kept = self._pop()
            if top == name:
                break
            if kept and top not in _ENDED_BY_PARENT:  # misnested: close it as we count it
                crossed.append(f"</{top}>")
        if crossed:
            self.out.append((start, start, "".join(crossed)))
        if not kept:
            self.out.append((start, end, ""))


def _apply(html: str, edits: list[Edit]) -> str:
    """``html`` with ``edits`` (in document order) made; a bare ``<`` just before a removed tag
    is escaped, so it cannot join what follows into a new tag (``a<<div>script>``)."""
    out: list[str] = []
    pos = 0
    for start, end, text in edits:
        if end > start > pos and html[start - 1] == "<":
            out += (html[pos:start - 1], "&lt;", text)
        else:
            out += (html[pos:start], text)
        pos = end
    out.append(html[pos:])
    return "".join(out)


def flatten_nesting_bytes(data: bytes, max_depth: int = MAX_DEPTH) -> bytes:
    """``flatten_nesting`` for a page not yet decoded, in any ASCII-compatible encoding (UTF-8,
    the ISO and Windows code pages, Shift_JIS…): tags are ASCII and no multi-byte character
    holds a ``<`` byte, so the bytes are read one to one as Latin-1 and written back the same
    way, and the page's own charset detection still sees its bytes. UTF-16 is left as it is."""
    text = data.decode("latin-1")
    flat = flatten_nesting(text, max_depth)
    return data if flat is text else flat.encode("latin-1")
