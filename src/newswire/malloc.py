"""Fewer glibc malloc arenas for the long-running processes (``run``, ``serve``, ``worker``).

glibc gives each thread that meets a locked arena an arena of its own, up to eight per core, and
an arena keeps the memory freed in it for reuse by that arena only. ``newswire run`` has a dozen
threads (the event loop, the writer, the enricher, the parse pool's, asyncio's); in a 10-minute
soak its arenas held 35 MB free that no other thread could use. With two arenas
(``MALLOC_ARENA_MAX=2``) the same soak's process held 6 MB free and its RSS was about 24 MB
lower (174 against 196 MB three minutes in). Python's small objects come
from its own allocator, so threads rarely wait on malloc's locks.

A ``MALLOC_ARENA_MAX`` in the environment wins: then nothing is changed here.

Large blocks are mapped on their own (``map_large_blocks``), for good: glibc's threshold for
that starts at 128 KiB but rises to the size of any mapped block freed (up to 32 MiB), and from
then on blocks under it come from the heap, where a freed one stays resident unless it lies at
the top. The copy index's band arrays are such blocks, rewritten with temporaries of their size
at every merge: after a 100,000-article week's copy window was rebuilt, malloc held 60 MB free
that Python's small objects could not use (they live in arenas pymalloc maps itself), and a
first start of ``newswire run`` over 1,000,000 articles peaked at 412 MB instead of 367, a
restart at 388 instead of 363 (``bench/run_memory.py``). A ``MALLOC_MMAP_THRESHOLD_`` in the
environment wins.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8  # glibc's mallopt parameters
M_MMAP_THRESHOLD = -3
M_TRIM_THRESHOLD = -1
ARENAS = 2
MAPPED_FROM = 1 << 20  # bytes: blocks this large or larger are mapped on their own
KEPT_ON_TOP = 8 << 20  # bytes free at the top of a heap before it is given back


def fewer_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas from now on; True when it agreed. False on
    another C library (musl has no ``mallopt``), another system, or with ``MALLOC_ARENA_MAX``
    set. Call it early, before the threads start."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return mallopt(M_ARENA_MAX, arenas) == 1


def map_large_blocks(threshold: int = MAPPED_FROM, trim_above: int = KEPT_ON_TOP) -> bool:
    """Ask glibc to map every block of ``threshold`` bytes or more on its own, and to keep that
    threshold (setting it stops its rise, see above); True when it agreed. Setting it also stops
    the rise of the free space a heap keeps at its top (128 KiB by default): the heap then shrank
    and grew back page by page as the enrichment's objects came and went, 3.7 times the page
    faults of bench/memory.py (81,000 against 22,000 at 3,000 articles), so that is set to
    ``trim_above``, where the faults are as before (2 MiB was enough there). Mapping a large
    block costs its page faults: the band arrays are rewritten every few thousand articles, not
    per article. False where ``fewer_arenas`` is, or with ``MALLOC_MMAP_THRESHOLD_`` set (a
    ``MALLOC_TRIM_THRESHOLD_`` set is left as it is). Call it early."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ and mallopt(M_TRIM_THRESHOLD, trim_above) != 1:
        return False
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1
