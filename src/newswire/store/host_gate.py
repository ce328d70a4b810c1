"""Per-host request slots and pacing shared by every process that fetches into one database
(``fetch.limits.HostGate``), so that N workers ask a host no more than one process would.

    try_slot(host, limit)      one of the host's ``limit`` slots that no holder has, or None
    release_slot(host, slot)
    try_start(host, interval)  0.0 and the start recorded, when the host's last start is
                               ``interval`` old; else the seconds to wait

PostgreSQL (``AdvisoryHostGate``): a slot is a session-level advisory lock on (a 32-bit hash
of the host, the slot's number), on a connection kept for it alone; a start is claimed with one
conditional upsert on ``host_pace`` (UNLOGGED: nothing in it outlives a crash usefully, and no
WAL flush per request), on the server's clock, so machines' clocks need not agree.

SQLite (``FileHostGate``): the processes sharing a database file share its machine, so both live
in a file beside the database (``<db>-hosts.lock``) as open-file-description byte-range locks
(Linux ``F_OFD_SETLK``): a slot is a lock on one byte far past the end of the file; a host's
last start is 8 bytes in one of 65,536 buckets, read and written under a lock on those bytes.
Nothing goes through SQLite itself, whose single writer (ingest's batches) would otherwise queue
every request behind a commit. Two hosts in one bucket are paced together: more polite, never less.

Either way, what holds a slot belongs to something the kernel ends with the process (a socket to
the server, an open file), so a ``kill -9``'d worker's slots come back at once, with no lease to
wait out. Both kinds of lock are re-entrant for their holder, so each gate remembers the slots
it holds and never asks for those again. A gate that cannot ask (the database went away) grants
and logs, at most once a minute: politeness falls back to each process's own limits rather
than stopping ingest.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import math
import os
import struct
import threading
import time
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

WARN_EVERY = 60.0  # seconds between two warnings that the gate cannot ask


def host_key(host: str, bits: int) -> int:
    """A stable unsigned ``bits``-bit key for ``host``."""
    digest = hashlib.sha256(f"newswire:host:{host.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


class _Warner:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._last: float | None = None

    def __call__(self, message: str, error: BaseException) -> None:
        now = self._clock()
        if self._last is None or now - self._last >= WARN_EVERY:
            self._last = now
            log.warning("%s; each process keeps to its own per-host limits meanwhile: %s",
                        message, str(error).splitlines()[0] if str(error) else type(error).__name__)


# --- SQLite: byte-range locks in a file beside the database ---------------------------------

_FLOCK = "hhqqi4x"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)


class FileHostGate:
    blocking = False
    PACE_BUCKETS = 1 << 16
    SLOT_BASE = 1 << 40  # slot bytes start here, far past the pace records (512 KiB at most)
    MAX_SLOTS = 1 << 16  # slots per host; more than this many is as good as no limit

    def __init__(self, path: str):
        self._path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._held: dict[int, set[int]] = {}
        self._lock = threading.Lock()
        self._warn = _Warner()
        try:  # refuse at once where open-file-description locks are missing (not Linux, old kernel)
            self._set_lock(fcntl.F_UNLCK, self.SLOT_BASE - 1, 1)
        except (AttributeError, OSError):
            os.close(self._fd)
            raise

    def try_slot(self, host: str, limit: int) -> int | None:
        key = host_key(host, 40)
        with self._lock:
            held = self._held.setdefault(key, set())
            for slot in range(min(limit, self.MAX_SLOTS)):
                if slot in held:
                    continue
                try:
                    if not self._try_lock(self._slot_offset(key, slot), 1):
                        continue
                except OSError as error:
                    self._warn(f"politeness: cannot lock {self._path}", error)
                    return -1
                held.add(slot)
                return slot
            return None

    def release_slot(self, host: str, slot: int) -> None:
        key = host_key(host, 40)
        with self._lock:
            held = self._held.get(key)
            if held is None or slot not in held:
                return
            held.discard(slot)
            if not held:
                del self._held[key]
            try:
                self._set_lock(fcntl.F_UNLCK, self._slot_offset(key, slot), 1)
            except OSError as error:
                self._warn(f"politeness: cannot unlock {self._path}", error)

    def try_start(self, host: str, interval: float) -> float:
        offset = (host_key(host, 40) % self.PACE_BUCKETS) * 8
        with self._lock:
            try:
                if not self._try_lock(offset, 8):
                    return 0.002  # another process is reading or writing this bucket: microseconds
                try:
                    raw = os.pread(self._fd, 8, offset)
                    last = struct.unpack("<d", raw)[0] if len(raw) == 8 else 0.0
                    now = time.time()
                    if not math.isfinite(last) or last > now + interval:
                        last = 0.0  # the clock went back, or the bytes are not ours: start afresh
                    if now < last + interval:
                        return last + interval - now
                    os.pwrite(self._fd, struct.pack("<d", now), offset)
                    return 0.0
                finally:
                    self._set_lock(fcntl.F_UNLCK, offset, 8)
            except OSError as error:
                self._warn(f"politeness: cannot pace through {self._path}", error)
                return 0.0

    def close(self) -> None:
        """Give every slot back (closing the file does it) and stop."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self._held.clear()

    def _slot_offset(self, key: int, slot: int) -> int:
        return self.SLOT_BASE + key * self.MAX_SLOTS + slot

    def _try_lock(self, start: int, length: int) -> bool:
        try:
            self._set_lock(fcntl.F_WRLCK, start, length)
            return True
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise

    def _set_lock(self, kind: int, start: int, length: int) -> None:
        fcntl.fcntl(self._fd, fcntl.F_OFD_SETLK, struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0))


# --- PostgreSQL: advisory locks and an UNLOGGED table -------------------------------------

# A slot: the first of the free ones this gate offers that no other session holds. The one
# condition is the lock itself and there is no ORDER BY, so rows are tried one at a time, in
# order, and LIMIT stops at the first taken: never a second lock that nobody would give back
# (tests/test_host_gate.py checks pg_locks).
_TRY_SLOT = sa.text("SELECT s FROM unnest(CAST(:free AS integer[])) AS s "
                    "WHERE pg_try_advisory_lock(CAST(:key AS integer), s) LIMIT 1")
_RELEASE = sa.text("SELECT pg_advisory_unlock(CAST(:key AS integer), CAST(:slot AS integer))")
# A start: recorded only when the host's last one is ``interval`` old (or in the future: a
# clock set back). The outer SELECT reads the row as the statement began, so when the upsert
# was refused it says how long is left.
_TRY_START = sa.text("""
WITH now AS (SELECT CAST(extract(epoch FROM clock_timestamp()) AS double precision) AS t),
took AS (
    INSERT INTO host_pace AS p (host, last_start) SELECT :host, t FROM now
    ON CONFLICT (host) DO UPDATE SET last_start = excluded.last_start
    WHERE p.last_start + :interval <= excluded.last_start OR p.last_start > excluded.last_start + :interval
    RETURNING 1)
SELECT (SELECT count(*) FROM took) AS took,
       (SELECT last_start FROM host_pace WHERE host = :host) + :interval - (SELECT t FROM now) AS left_
""")


class AdvisoryHostGate:
    blocking = True
    RETRY_SOON = 0.005  # refused, yet the row read says the time has come: another start just won

    def __init__(self, engine: Engine):
        self._engine = engine
        self._conn: Connection | None = None
        self._held: dict[int, set[int]] = {}
        self._lock = threading.Lock()
        self._warn = _Warner()

    def try_slot(self, host: str, limit: int) -> int | None:
        key = _signed32(host_key(host, 32))
        with self._lock:
            held = self._held.setdefault(key, set())
            free = [slot for slot in range(min(limit, FileHostGate.MAX_SLOTS)) if slot not in held]
            if not free:
                return None
            try:
                taken = self._connection().execute(_TRY_SLOT, {"free": free, "key": key}).scalar()
            except sa.exc.SQLAlchemyError as error:
                self._lost("politeness: cannot take a host slot", error)
                return -1
            if taken is None:
                return None
            held.add(taken)
            return int(taken)

    def release_slot(self, host: str, slot: int) -> None:
        key = _signed32(host_key(host, 32))
        with self._lock:
            held = self._held.get(key)
            if held is None or slot not in held:
                return  # never taken, or gone with a lost connection
            held.discard(slot)
            if not held:
                del self._held[key]
            try:
                self._connection().execute(_RELEASE, {"key": key, "slot": slot})
            except sa.exc.SQLAlchemyError as error:
                self._lost("politeness: cannot give a host slot back", error)

    def try_start(self, host: str, interval: float) -> float:
        with self._lock:
            try:
                row = self._connection().execute(_TRY_START, {"host": host.lower(), "interval": interval}).one()
            except sa.exc.SQLAlchemyError as error:
                self._lost("politeness: cannot pace requests", error)
                return 0.0
        if row.took:
            return 0.0
        return max(float(row.left_ or 0.0), self.RETRY_SOON)

    def close(self) -> None:
        """End the gate's session: every slot it holds goes back."""
        with self._lock:
            self._drop()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _lost(self, message: str, error: BaseException) -> None:
        """The connection failed: its session, and every lock in it, is gone or going."""
        self._warn(message, error)
        self._drop()

    def _drop(self) -> None:
        self._held.clear()
        if self._conn is not None:
            try:  # never back to the pool: its session, with any lock in it, would live on
                self._conn.invalidate()
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def host_gate(engine: Engine) -> FileHostGate | AdvisoryHostGate | None:
    """The gate (``fetch.limits.HostGate``) the processes on this database share; None for an in-memory SQLite database
    (one process: ``fetch.limits.LocalGate`` does) or where file locks are not to be had."""
    if engine.dialect.name == "postgresql":
        return AdvisoryHostGate(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    path = f"{os.path.abspath(database)}-hosts.lock"
    try:
        return FileHostGate(path)
    except (AttributeError, OSError) as error:
        log.warning("politeness: cannot share per-host limits through %s (%s); each process keeps its own",
                    path, error)
        return None
