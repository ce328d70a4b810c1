"""HTML from feeds made safe to show, and turned into plain text and snippets.

Feed HTML is untrusted: ``sanitize_html`` keeps the article's structure (paragraphs, headings,
lists, quotes, figures, tables, links, images) and drops everything that runs code or loads
content silently (script, style, iframe, object, event handlers, javascript:/data: URLs).
Relative links are resolved against the entry's base so the HTML still works on our pages.
"""

from __future__ import annotations

import html as _html
import re
from functools import lru_cache

import nh3

from newswire.parse.nesting import flatten_nesting

from newswire.parse.limits import CUT_PUNCTUATION, clip_text

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
    "abbr": {"title"},
}
# Removed together with everything inside them. (iframe, object and applet are removed too, but
# the fallback they hold for readers without frames or plugins is kept, as feedparser does.)
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "embed", "template", "noscript", "svg",
    "math", "form", "select", "textarea", "button", "frameset", "frame", "noembed",
})
# Every HTML element name, current and obsolete, that publishers put in feeds. In a title, a
# "tag" with any other name is words about markup ("Why the <blink> tag vanished"), not markup.
HTML_ELEMENTS = ALLOWED_TAGS | DROPPED_WITH_CONTENT | frozenset({
    "acronym", "address", "applet", "area", "article", "aside", "audio", "base", "basefont", "bdi",
    "bdo", "big", "body", "canvas", "center", "col", "colgroup", "data", "datalist", "details",
    "dfn", "dialog", "dir", "fieldset", "font", "footer", "head", "header", "hgroup", "html",
    "iframe", "img", "input", "label", "legend", "link", "main", "map", "menu", "meta", "meter",
    "nav", "object", "optgroup", "option", "output", "param", "picture", "progress", "rp", "rt",
    "ruby", "section", "source", "strike", "summary", "title", "track", "tt", "var", "video", "wbr",
})
URL_SCHEMES = frozenset({"http", "https", "mailto"})

BLOCK_TAGS = ("p|div|br|h[1-6]|li|ul|ol|blockquote|figure|figcaption|table|thead|tbody|tfoot"
              "|tr|td|th|caption|pre|hr|dl|dt|dd|section|article|header|footer|aside|nav|main"
              "|address")
_DROP_BLOCKS = re.compile(r"<(script|style|template|noscript|svg|math)\b.*?</\1\s*>|<!--.*?-->",
                          re.I | re.S)
_BLOCK = re.compile(rf"</?(?:{BLOCK_TAGS})\b[^>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z!?][^>]*>?")
_MAYBE_DROPPED = re.compile(r"<(?:script|style|template|noscript|svg|math)\b", re.I)
# An iframe's content is raw text to an HTML parser: its tags go first, so the fallback inside
# is read (and sanitised) as the markup it is.
_FRAME_TAG = re.compile(r"</?iframe\b[^>]*>?", re.I)
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_CLOSE_TAG_OR_ENTITY = re.compile(r"</[A-Za-z][A-Za-z0-9-]*\s*>|&#?\w+;")


@lru_cache(maxsize=256)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    relative = ("rewrite_with_base", base_url) if base_url else "deny"
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        url_relative=relative,
    )


def sanitize_html(html: str, base_url: str | None) -> str:
    """Safe HTML with relative href/src resolved against ``base_url``.

    Without a usable base, relative URLs are dropped (they would point at our own site). Tags
    nested deeper than ``nesting.MAX_DEPTH`` are dropped first, their text kept: nh3's cost
    grows faster than quadratically with depth, and a hostile feed would freeze the server.
    """
    if not html or not html.strip():
        return ""
    try:
        cleaner = _cleaner(base_url or None)
    except Exception:  # nh3 rejects a malformed base URL: fall back to dropping relative links
        cleaner = _cleaner(None)
    return cleaner.clean(_FRAME_TAG.sub("", flatten_nesting(html))).strip()


def html_to_text(html: str) -> str:
    """Plain text from HTML: block elements become line breaks, entities are decoded, runs of
    whitespace collapse to one space, and blank lines disappear."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    text = " ".join(html.split())  # source whitespace is insignificant in HTML
    if "<" in text:
        if "<!" in text or _MAYBE_DROPPED.search(text):
            text = _DROP_BLOCKS.sub(" ", text)
        text = _BLOCK.sub("\n", text)
        text = _TAG.sub("", text)
    if "&" in text:  # entities may bring back spaces (&nbsp;, &#32;): collapse again
        text = _html.unescape(text)
        lines = [" ".join(line.split()) for line in text.split("\n")]
    else:
        lines = [" ".join(line.split()) if "  " in line else line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _unknown_tags_as_text(html: str) -> str:
    """``html`` with "<" escaped where what follows is not an HTML element's name."""
    return _TAG_NAME.sub(lambda m: m[0] if m[2].lower() in HTML_ELEMENTS else "&lt;" + m[0][1:], html)


def looks_like_html(text: str) -> bool:
    """Whether text of unknown kind is HTML: it closes a tag or uses an entity, and every tag in
    it names an HTML element (feedparser's rule, so that both readers decide alike)."""
    if not _CLOSE_TAG_OR_ENTITY.search(text):
        return False
    return all(m[2].lower() in HTML_ELEMENTS for m in _TAG_NAME.finditer(text))


def text_line(html: str, *, is_html: bool = True) -> str:
    """One line of text (titles, names): tags stripped, entities decoded, whitespace collapsed.
    A "tag" that names no HTML element stays as the words it is."""
    if not html:
        return ""
    if is_html:
        if "<" in html:
            html = _unknown_tags_as_text(html)
        return " ".join(html_to_text(html).split())
    return " ".join(html.split())


def make_snippet(text: str, limit: int = 300) -> str:
    """At most about ``limit`` characters of ``text`` on one line, cut at a word boundary,
    ending in "…" when something was cut."""
    head = limit * 2 + 64  # only the start matters; no need to collapse a whole article
    line = " ".join(text[:head].split())
    if len(text) > head and len(line) <= limit:  # mostly whitespace, but more follows
        return line.rstrip(CUT_PUNCTUATION) + "…"
    return clip_text(line, limit)


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs (JSON Feed ``content_text``, Atom type="text")."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{_html.escape(p, quote=False).replace(chr(10), '<br>')}</p>" for p in paragraphs)
