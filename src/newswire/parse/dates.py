"""Feed dates into aware UTC datetimes.

Feeds write dates in RFC 822 (often broken: wrong or missing weekday, two-digit years, named
zones, "+05:30"), ISO 8601 / RFC 3339 (with or without seconds, fractions, "Z", a space for "T"),
or bare days. The two common shapes get hand-written regexes because they are on the hot path;
``dateutil`` is the last resort. A date without a zone is read in the source's zone.
Nothing here raises: an unreadable date is None.

``plausible_date`` keeps only dates a newswire can believe: one far in the future would pin its
item to the top of the wire (and years like 9999 overflow once shown in a zone east of UTC), one
before 1990 is a "zero" value (0001-01-01, 1900-01-01, 1970-01-01, 1980-01-01) rather than a
publication time, since no web publication predates 1990.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

_ISO = re.compile(
    r"^\s*(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_RFC822 = re.compile(
    r"^\s*(?:[^\W\d_]+\.?,?\s*)?(\d{1,2})[\s-]+([^\W\d_]+)\.?,?[\s-]+(\d{2,4})"
    r"(?:[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*([A-Za-z]{1,5}|[+-]\d{2}:?\d{2})?\s*(?:\(.*\))?\s*$"
)
# "Wed, Sep 17 2025 11:01:00 EDT" and other month-first forms
_MONTH_FIRST = re.compile(
    r"^\s*(?:[^\W\d_]+\.?,?\s*)?([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})"
    r"(?:[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
    r"\s*([A-Za-z]{1,5}|[+-]\d{2}:?\d{2})?\s*$"
)

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # French
    "janv": 1, "janvier": 1, "fév": 2, "févr": 2, "fev": 2, "fevr": 2, "février": 2, "fevrier": 2,
    "mars": 3, "avr": 4, "avril": 4, "mai": 5, "juin": 6, "juil": 7, "juillet": 7, "aoû": 8,
    "aou": 8, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "déc": 12,
    "décembre": 12, "decembre": 12,
}
_ENGLISH_FULL = ["january", "february", "march", "april", "may", "june", "july", "august",
                 "september", "october", "november", "december"]
MONTHS.update({name: i + 1 for i, name in enumerate(_ENGLISH_FULL)})

ZONES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5, "AKST": -9, "AKDT": -8, "HST": -10,
    "BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "WEST": 1,
    "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "ACST": 9.5, "AWST": 8, "NZST": 12, "NZDT": 13,
}

_DATEUTIL_ZONES = {name: int(hours * 3600) for name, hours in ZONES.items()}

# Earliest believable publication time: before the web, and above every "zero" sentinel
# (0001-01-01 Go/.NET, 1900-01-01 spreadsheets, 1970-01-01 Unix, 1980-01-01 DOS) in any zone.
# Real archives (a 1995 story) stay dated.
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
# How far ahead of the time we saw an entry its date may be: publishers' clocks run a few
# minutes fast; beyond that the date is a scheduling mistake, a mislabelled zone or hostile.
FUTURE_TOLERANCE = timedelta(minutes=10)


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """The IANA zone ``name``; UTC when it is missing or unknown."""
    if not name or name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return timezone.utc


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if text[0] == "-" else delta)
    hours = ZONES.get(text.upper())
    return None if hours is None else timezone(timedelta(hours=hours))


def _is_meridiem(text: str | None) -> bool:
    """"11:01 PM" is a 12-hour time, not a zone called PM; dateutil reads those."""
    return bool(text) and text.upper() in ("AM", "PM")


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:  # RFC 2822 4.3: 00-49 are 2000s, 50-99 are 1900s
        year += 2000 if year < 50 else 1900
    return year


def _build(year: int, month: int, day: int, hour: str | None, minute: str | None,
           second: str | None, fraction: str | None, tz_text: str | None,
           default_tz: tzinfo) -> datetime | None:
    try:
        sec = int(second or 0)
        leap = sec == 60
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        dt = datetime(year, month, day, int(hour or 0), int(minute or 0), 59 if leap else sec, micro)
        tz = _offset(tz_text) or default_tz
        dt = dt.replace(tzinfo=tz)
        if leap:
            dt += timedelta(seconds=1)
        return dt.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _dateutil(raw: str, default_tz: tzinfo) -> datetime | None:
    """The last resort; only accepts strings that state a year, a month and a day."""
    from dateutil import parser

    defaults = (datetime(1904, 2, 29), datetime(1907, 7, 3))  # disagree on every field
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = parser.parse(raw, default=defaults[0], tzinfos=_DATEUTIL_ZONES)
            b = parser.parse(raw, default=defaults[1], tzinfos=_DATEUTIL_ZONES)
    except (ValueError, OverflowError, TypeError, LookupError, parser.ParserError):
        return None
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None
    if a.tzinfo is None:
        a = a.replace(tzinfo=default_tz)
    try:
        return a.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def parse_date(raw: str | None, tz: str | tzinfo | None = "UTC") -> datetime | None:
    """``raw`` as an aware UTC datetime, or None when it is not a readable date.

    ``tz`` (an IANA name or a tzinfo) is the zone for dates that carry none.
    """
    if not raw or not isinstance(raw, str):
        return None
    raw = raw.strip()
    if not raw or len(raw) > 100:
        return None
    default_tz = tz if isinstance(tz, tzinfo) else zone(tz)
    m = _ISO.match(raw)
    if m:
        y, mo, d, h, mi, s, frac, z = m.groups()
        return _build(int(y), int(mo), int(d), h, mi, s, frac, z, default_tz)
    m = _RFC822.match(raw)
    if m:
        d, mon, y, h, mi, s, z = m.groups()
        month = MONTHS.get(mon.lower()) or MONTHS.get(mon.lower()[:3])
        if month and not _is_meridiem(z):
            return _build(_year(y), month, int(d), h, mi, s, None, z, default_tz)
    m = _MONTH_FIRST.match(raw)
    if m:
        mon, d, y, h, mi, s, z = m.groups()
        month = MONTHS.get(mon.lower()) or MONTHS.get(mon.lower()[:3])
        if month and not _is_meridiem(z):
            return _build(int(y), month, int(d), h, mi, s, None, z, default_tz)
    return _dateutil(raw, default_tz)


def plausible_date(value: datetime | None, *, seen_at: datetime) -> datetime | None:
    """``value`` when it lies in [``EARLIEST``, ``seen_at`` + ``FUTURE_TOLERANCE``], else None.

    Callers treat None as "no date", so an implausible date gets the same fallback as a missing
    one (the entry's other date, or the time it was first seen, marked as estimated).
    """
    if value is None or value < EARLIEST:
        return None
    return value if value - seen_at <= FUTURE_TOLERANCE else None
