"""What the benchmarks share: a free loopback port and CPU seconds of processes read from /proc.

CPU is user+system time in clock ticks (`SC_CLK_TCK`), so a window of a few seconds has a resolution of
one tick (10 ms) per process: measure long windows or many cameras, and report medians.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def family_cpu_seconds(root_pids: list[int]) -> tuple[float, float]:
    """User+system CPU seconds of these processes, and of all their living descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    family = set(root_pids)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    roots = sum(times.get(pid, 0.0) for pid in root_pids)
    return roots, sum(times.get(pid, 0.0) for pid in family) - roots
