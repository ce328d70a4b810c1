"""The CPU time a process and every process it starts use, read from /proc while it runs.

On this machine kind the wall time of one run moved by 15 % and more from one run to the next
(other tenants), while the CPU seconds that run used moved by a few: the figure to compare two
versions by. ``wait4``'s rusage does not give it: Newswire's parse workers are the children of
a fork server, not of the process waited for, and their time reaches no one's rusage. So the
process tree is read every ``interval`` seconds, and each process's last reading counts (what a
process used after the last reading before it ended is missed: at most ``interval`` of CPU).
"""

from __future__ import annotations

import os
import resource
import threading
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class TreeCpu:
    """CPU seconds (user + system) by process, for a tree rooted at one process."""

    root: int
    seconds: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def root_seconds(self) -> float:
        return self.seconds.get(self.root, 0.0)

    @property
    def others(self) -> float:
        """The processes it started (parse workers, their fork server)."""
        return self.total - self.root_seconds

    def read(self) -> None:
        """Read every process of the tree once."""
        parents: dict[int, int] = {}
        used: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                found = _stat(int(entry))
                if found is not None:
                    parents[int(entry)], used[int(entry)] = found
        tree, grown = {self.root}, True
        while grown:
            children = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= children
            grown = bool(children)
        for pid in tree & used.keys():
            self.seconds[pid] = used[pid]


def _stat(pid: int) -> tuple[int, float] | None:
    """A process's parent and CPU seconds so far; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after the name, which may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # ppid, utime + stime


def follow(pid: int, interval: float = 0.25) -> tuple[int, resource.struct_rusage, TreeCpu]:
    """Wait for ``pid`` (a child of this process) to end, reading its tree's CPU meanwhile on a
    thread (a read costs about 2 ms here: under 1 % of a core), so the wait ends when the
    process does: its wait status, rusage (whose CPU would count again the children it waited
    for) and the CPU by process."""
    cpu = TreeCpu(pid)
    stop = threading.Event()

    def sample() -> None:
        cpu.read()
        while not stop.wait(interval):
            cpu.read()

    sampler = threading.Thread(target=sample, name="process-cpu", daemon=True)
    sampler.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        stop.set()
        sampler.join()
    return status, usage, cpu
