"""Parse worker processes that hold nothing of their parent's and die with it.

A worker forked straight from ``newswire run`` would inherit every descriptor the process holds,
the web server's listening socket included (close-on-exec does not help without an exec), and
after a ``kill -9`` or an OOM kill of its parent it would live on, parent 1, holding the port:
the restart then fails with "Address already in use". So:

- workers start from a fork server (a fresh interpreter, exec'd with no descriptors but its own,
  that forks each worker), so they never see the socket; the fork server exits as soon as the
  main process is gone (its end of a pipe closes);
- each worker asks Linux to kill it when its parent, the fork server, dies
  (``prctl(PR_SET_PDEATHSIG)``), and a daemon thread also ends it once the main process is gone
  (the portable fallback, and a guard against the race before the ``prctl``);
- workers ignore SIGINT: a terminal's Ctrl-C reaches the whole process group, and the parent
  decides when they stop (after the parses in flight).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

WATCH_SECONDS = 1.0  # how often a worker checks that the main process is still there
PR_SET_PDEATHSIG = 1
# Imported once in the fork server, so that each worker forks with them loaded. Not copy
# detection's preparation (numpy, datasketch): the event loop waits for the fork server's
# imports when the pool starts, so each worker imports that on its first enriched feed.
PRELOAD = ["newswire.service.update", "newswire.parse.assemble", "newswire.parse.document"]


def parse_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` parse processes that share no descriptor with this process and die
    with it."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent,
                               initargs=(os.getpid(),))


def die_with_parent(main_pid: int) -> None:
    """The pool's initializer, run in each worker before its first task."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _ask_kernel_to_kill_us_with_parent()
    if not _alive(main_pid):  # it died before the request above could take effect
        os._exit(1)
    threading.Thread(target=_watch, args=(main_pid, os.getppid()), name="newswire-parent-watch",
                     daemon=True).start()


def _ask_kernel_to_kill_us_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no usable libc: the watching thread still ends us
        pass


def _watch(main_pid: int, parent_pid: int) -> None:
    while os.getppid() == parent_pid and _alive(main_pid):
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has the pid: ours is gone
        return False
    return True
