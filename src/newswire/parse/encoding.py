"""Feed bytes into text, the way a browser would read them.

The HTTP charset, the XML declaration and the bytes often disagree. The rule, in order:
a byte-order mark wins; bytes that are valid UTF-8 are UTF-8; otherwise the HTTP charset, then
the declared one, if the bytes decode in it; otherwise UTF-8 where each invalid byte is read as
Windows-1252 (a UTF-8 feed with pasted "smart quotes"). Latin-1 and ASCII labels mean
Windows-1252, as in browsers.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:\-]{1,40})["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]{1,40})""", re.I)
_WINDOWS_1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii",
                         "ascii", "iso_8859-1", "iso-ir-100", "cp819", "ansi_x3.4-1968"}
_CP1252_ERRORS = "newswire-cp1252"


def _cp1252_byte(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: as browsers, the C1 control
        return chr(byte)


_CP1252_TABLE = [_cp1252_byte(b) for b in range(256)]


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(_CP1252_TABLE[b] for b in bad), err.end


codecs.register_error(_CP1252_ERRORS, _cp1252_fallback)


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    if label in ("gb2312", "gbk", "x-gbk"):
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    m = _CHARSET.search(content_type)
    return m.group(1) if m else None


def declared_charset(content: bytes) -> str | None:
    """The encoding named in the XML declaration, if any."""
    m = _DECLARED.match(content[:300])
    return m.group(1).decode("ascii") if m else None


def _bom(content: bytes) -> tuple[str, int] | None:
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return codec, len(bom)
    if content.startswith(b"<\x00?\x00"):
        return "utf-16-le", 0
    if content.startswith(b"\x00<\x00?"):
        return "utf-16-be", 0
    return None


def decode(content: bytes, content_type: str | None = None) -> str:
    """The document's text; never raises for any bytes."""
    found = _bom(content)
    if found:
        codec, skip = found
        return content[skip:].decode(codec, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for label in (http_charset(content_type), declared_charset(content)):
        codec = _codec(label)
        if codec is None or codec in ("utf-8", "utf-16", "utf-32"):
            continue
        if codec == "cp1252":
            return content.decode("utf-8", errors=_CP1252_ERRORS) if _mostly_utf8(content) \
                else content.decode("cp1252", errors=_CP1252_ERRORS)
        try:
            return content.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return content.decode("utf-8", errors=_CP1252_ERRORS)


def _mostly_utf8(content: bytes) -> bool:
    """True when the bytes hold valid multi-byte UTF-8 sequences: a UTF-8 document mislabelled
    as Latin-1 that also has a few stray Windows-1252 bytes."""
    return re.search(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}", content) is not None
