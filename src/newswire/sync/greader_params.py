"""Google Reader request parameters: read from the query string and the form alike (clients put
them in either, as FreshRSS's ``$_REQUEST`` lets them), repeated names kept (``i=…&i=…``).

    Params          the request's (name, value) pairs: ``first``, ``all``
    StreamQuery     what ``stream/contents`` and ``stream/items/ids`` ask for:
                    s, n, c (continuation), ot/nt (seconds), xt/it (exclude/include a state), r=o
    microseconds    ``ts`` of ``mark-all-as-read`` as a UTC datetime

Pure functions, no I/O: each raises ``ValueError`` for a value no client sends, and the router
answers it with 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from newswire.sync.greader_ids import READ, STARRED, Stream, normalise_user, parse_stream

MAX_BODY_BYTES = 1_048_576  # 10,000 long item ids fit four times over
MAX_FIELDS = 20_000
MAX_CURSOR = 200
LAST_SECOND = int(datetime(9999, 12, 31, tzinfo=timezone.utc).timestamp())


class Params:
    """A request's parameters, query string first, then the form body."""

    def __init__(self, pairs: list[tuple[str, str]]):
        if len(pairs) > MAX_FIELDS:
            raise ValueError(f"too many parameters (at most {MAX_FIELDS})")
        self.pairs = pairs

    @classmethod
    def parse(cls, query: str, body: bytes = b"") -> "Params":
        """From a raw query string and an urlencoded body; NUL anywhere is refused."""
        if len(body) > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        pairs = parse_qsl(query, keep_blank_values=True)
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        if any("\x00" in name + value for name, value in pairs):
            raise ValueError("parameters must not contain NUL")
        return cls(pairs)

    def first(self, name: str) -> str | None:
        return next((value for key, value in self.pairs if key == name), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


def count(value: str | None, default: int, most: int) -> int:
    """``n``: how many items, ``default`` when absent, at most ``most`` (larger asks get ``most``,
    as the reference servers clamp them)."""
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ValueError(f"n must be a positive number, not {value[:40]!r}")
    return min(int(value), most)


def seconds(value: str | None, name: str) -> datetime | None:
    """``ot``/``nt``: Unix seconds as a UTC datetime, None when absent or 0."""
    return _epoch(value, name, 1)


def microseconds(value: str | None, name: str) -> datetime | None:
    """``ts``: Unix microseconds as a UTC datetime, None when absent or 0."""
    return _epoch(value, name, 1_000_000)


def _epoch(value: str | None, name: str, per_second: int) -> datetime | None:
    if value is None or value.strip() in ("", "0"):
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) // per_second > LAST_SECOND:
        raise ValueError(f"{name} must be a time in Unix {'seconds' if per_second == 1 else 'microseconds'}")
    whole, part = divmod(int(text), per_second)
    return datetime.fromtimestamp(whole, timezone.utc).replace(microsecond=part * (1_000_000 // per_second))


@dataclass(frozen=True, slots=True)
class StreamQuery:
    """One page of a stream, as a client asks for it."""

    stream: Stream
    limit: int
    continuation: str | None = None
    newer_than: datetime | None = None
    older_than: datetime | None = None
    oldest_first: bool = False
    exclude_read: bool = False     # xt=…/read
    only_read: bool = False        # it=…/read
    only_starred: bool = False     # it=…/starred


def stream_query(params: Params, stream_id: str, *, default: int, most: int) -> StreamQuery:
    """The page ``params`` ask for of ``stream_id``. Exclusions and inclusions other than the
    read state (xt) and the read and starred states (it) are ignored, as FreshRSS ignores them."""
    continuation = params.first("c") or None
    if continuation is not None and (len(continuation) > MAX_CURSOR or not continuation.isprintable()):
        raise ValueError("c is not a continuation this server gave")
    excluded = {normalise_user(v) for v in params.all("xt")}
    included = {normalise_user(v) for v in params.all("it")}
    return StreamQuery(
        stream=parse_stream(stream_id),
        limit=count(params.first("n"), default, most),
        continuation=continuation,
        newer_than=seconds(params.first("ot"), "ot"),
        older_than=seconds(params.first("nt"), "nt"),
        oldest_first=params.first("r") == "o",
        exclude_read=READ in excluded,
        only_read=READ in included, only_starred=STARRED in included,
    )
