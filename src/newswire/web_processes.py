"""More than one process answering the web: ``newswire serve --workers N``.

Why: a Python process runs one request's Python at a time, so on a machine with more cores the
pages of one process queue behind each other (a signed-in reader's wire at four requests at once
waited about three other pages' time). The listening socket is bound once, then N-1 children
are forked before any thread or event loop starts, and every process accepts on that socket:
the kernel hands each new connection to one of them.

What the processes must agree on already lives in the database: sessions, the CSRF secret, the
sign-in throttle, reader state, the notices after a form (``Store.put_notice``) and the stamps
that tell each process's caches what changed. The first-run link's token is made before the
fork, so every process accepts it; once it has made an admin, every process sees that admin.

Stopping: the parent stops its own server on SIGINT/SIGTERM, then sends SIGTERM to the children
and waits for them (SIGKILL after ``STOP_GRACE`` seconds). A child whose parent dies, even by
SIGKILL, gets SIGTERM from the kernel (Linux ``PR_SET_PDEATHSIG``), so none is left serving an
orphaned port.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from typing import Callable, Iterator

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds a child has to finish its requests after SIGTERM
_PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def forked(count: int, serve: Callable[[], None]) -> Iterator[list[int]]:
    """Run ``serve`` in ``count`` forked children for the duration of the block (whose body is
    the parent's own serving); on the way out, stop them. Yields their pids. Call it before
    starting any thread: a fork copies only the calling thread."""
    parent = os.getpid()
    children: list[int] = []
    try:
        for _ in range(count):
            pid = os.fork()
            if pid == 0:  # the child: serve, then leave without running the parent's clean-up
                os._exit(_child(parent, serve))
            children.append(pid)
        yield children
    finally:
        stop(children)


def _child(parent: int, serve: Callable[[], None]) -> int:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above took effect
        return 1
    try:
        serve()
        return 0
    except KeyboardInterrupt:
        return 0
    except BaseException:  # noqa: BLE001 - the child's own report; it must not return into the parent's code
        log.exception("web: a server process failed")
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def stop(children: list[int], grace: float = STOP_GRACE) -> None:
    """SIGTERM each child still running, wait up to ``grace`` seconds, then SIGKILL the rest."""
    running = [pid for pid in children if _signal(pid, signal.SIGTERM)]
    deadline = time.monotonic() + grace
    while running and time.monotonic() < deadline:
        running = [pid for pid in running if not _reaped(pid)]
        if running:
            time.sleep(0.05)
    for pid in running:
        log.warning("web: server process %d did not stop in %.0f s; killing it", pid, grace)
        _signal(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> bool:
    try:
        os.kill(pid, signum)
        return True
    except ProcessLookupError:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False


def _reaped(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid
