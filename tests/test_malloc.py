"""The long-running commands ask glibc for fewer malloc arenas, unless the environment says."""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import subprocess
import sys

import pytest

from newswire import cli_serve
from newswire.malloc import fewer_arenas, map_large_blocks

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                           reason="glibc's mallopt")


@glibc
def test_glibc_takes_the_arena_limit(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert fewer_arenas() is True


def test_a_limit_in_the_environment_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert fewer_arenas() is False
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert map_large_blocks() is False


# Run in a fresh interpreter: a 2 MiB block comes from the heap whatever the threshold when the
# heap has that much free already, as a process that has run other tests has (CI failed on it).
_MAPPED_AFTER_A_LARGER_ONE = """
import ctypes, sys
from newswire.malloc import map_large_blocks

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
if sys.argv[1] == "set":
    assert map_large_blocks() is True
libc.free(libc.malloc(16 << 20))
mapped = libc.mallinfo2().hblks
block = libc.malloc(2 << 20)
print(libc.mallinfo2().hblks - mapped)
"""


@glibc
def test_a_large_block_stays_mapped_after_a_larger_one_was_freed():
    """glibc alone raises its mapping threshold to the 16 MiB block freed, and takes the 2 MiB
    block from the heap, where it would stay resident once freed."""
    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("glibc before 2.33: no mallinfo2 to count mapped blocks")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}

    def newly_mapped(mode: str) -> int:
        return int(subprocess.run([sys.executable, "-c", _MAPPED_AFTER_A_LARGER_ONE, mode], env=env, check=True,
                                  capture_output=True, text=True, timeout=60).stdout)

    assert newly_mapped("set") == 1
    assert newly_mapped("default") == 0  # what the setting changes


@glibc
def test_the_heap_keeps_a_few_mb_free_on_top_rather_than_shrinking_and_growing_back(monkeypatch):
    """Setting the mapping threshold also fixes how much free space a heap keeps at its top, at
    128 KiB unless set too: a 600 KiB block freed and taken again would cost its page faults
    every time."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    assert map_large_blocks() is True
    size = 600 << 10
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(100):
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)
        libc.free(block)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 1000  # 150 pages a block


@pytest.mark.parametrize("command", ["run", "serve", "worker"])
def test_the_long_running_commands_ask_first(command, monkeypatch):
    asked = []

    class Stop(Exception):
        pass

    def opened(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(cli_serve, "fewer_arenas", lambda: asked.append(command))
    monkeypatch.setattr(cli_serve, "map_large_blocks", lambda: asked.append("mapped"))
    monkeypatch.setattr(cli_serve, "_open", opened)
    with pytest.raises(Stop):
        getattr(cli_serve, command)(database="sqlite:///unused.db")
    assert asked == [command, "mapped"]
