"""What the machine says about a process tree, from /proc: CPU time, time spent waiting for a
CPU, memory; and about itself: load average, CPU model."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(x) for x in task.read_text().split()]
        except OSError:
            pass
    return out


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def run_delay(pids: list[int]) -> float:
    """Seconds the threads of these processes were runnable but waiting for a CPU."""
    total = 0
    for p in pids:
        for st in Path(f"/proc/{p}/task").glob("*/schedstat"):
            try:
                total += int(st.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return total / 1e9


def switches(pids: list[int]) -> Counter[str]:
    """Voluntary context switches (a thread went to sleep, so something must wake it) of
    these processes' threads, by thread name."""
    out: Counter[str] = Counter()
    for p in pids:
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                name = (task / "comm").read_text().strip()
                if task.name == str(p):
                    name += " (main)"
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        out[name] += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"
