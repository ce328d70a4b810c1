"""Processes as /proc shows them (Linux): which descend from a process, and which still run.

Tests use it to prove that no process Newswire starts outlives it, e.g. parse workers after a
``kill -9`` of ``newswire run``. A pid is paired with its start time, so a pid the kernel has
handed to a new process is not mistaken for the old one; zombies count as gone."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Proc:
    pid: int
    parent: int
    started: int  # clock ticks after boot


def _read(pid: int) -> tuple[str, Proc] | None:
    """(state, process) from /proc/<pid>/stat; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], Proc(pid, int(fields[1]), int(fields[19]))


def _running() -> list[Proc]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (read := _read(int(entry))) and read[0] != "Z":
            found.append(read[1])
    return found


def descendants(root: int) -> list[Proc]:
    """Every running process descended from ``root`` (children, grandchildren, …)."""
    everyone = _running()
    found: list[Proc] = []
    parents = {root}
    while parents:
        generation = [p for p in everyone if p.parent in parents and p not in found]
        found.extend(generation)
        parents = {p.pid for p in generation}
    return found


def still_running(processes: list[Proc]) -> list[Proc]:
    """Those of ``processes`` that still run: not exited, not a zombie, pid not reused."""
    running = []
    for process in processes:
        read = _read(process.pid)
        if read and read[0] != "Z" and read[1].started == process.started:
            running.append(process)
    return running
