"""bench/process_cpu.py: the CPU of a process tree, its grandchildren included (bench/ingest.py
compares versions by it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import process_cpu  # noqa: E402

# The root starts a child that starts a grandchild; the grandchild spends half a second of CPU
# (measured by its own clock, not the wall's), and each waits for its child.
SPIN = """
import os, subprocess, sys, time
depth = int(sys.argv[1])
if depth:
    subprocess.run([sys.executable, "-c", sys.argv[2], str(depth - 1), sys.argv[2]], check=True)
else:
    while time.process_time() < 0.5:
        pass
"""


def test_the_tree_counts_a_grandchilds_cpu():
    process = subprocess.Popen([sys.executable, "-c", SPIN, "2", SPIN])
    status, _, cpu = process_cpu.follow(process.pid, interval=0.05)
    assert status == 0
    assert len(cpu.seconds) == 3  # the root, its child, its grandchild
    assert cpu.others >= 0.5 - 0.05 - 0.1  # less what ran after the grandchild's last reading
    assert cpu.total == cpu.root_seconds + cpu.others


def test_a_process_that_is_gone_reads_as_nothing():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert process_cpu._stat(process.pid) is None
