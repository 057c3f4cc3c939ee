"""Timing and memory measurement: a command's wall time, the CPU time and the peak RSS of its whole
process tree.

CPU is counted over every process of the tree: `/usr/bin/time` (and the command's own rusage) misses
the forkserver's workers, which are not children of the command. Each process's user + system time is
read from /proc/PID/stat at every sample (the last reading of each kept), and the command's rusage
after it exits is taken when larger (it includes the last milliseconds of processes it waited for).

Memory is sampled from /proc every 20 ms over the process and all its descendants (worker
processes included) and summed, so a process pool cannot hide memory in its children. The figure
reported is the summed PSS (shared library pages divided among the processes that map them); the
summed RSS, which counts them once per process, is reported beside it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _rss_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; PSS shares each shared page among the processes mapping it."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    rss = pss = 0
    for line in text.splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(_children(current))
    return found


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of a process and all its descendants, in KiB.

    Summed RSS counts a shared library once per worker that maps it; summed PSS is the memory the
    tree really uses, and is what `peak_rss_mb` reports.
    """
    rss_total = pss_total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        rss, pss = _rss_kb(current)
        rss_total += rss
        pss_total += pss
        stack.extend(_children(current))
    return rss_total, pss_total


@dataclass(frozen=True)
class RunResult:
    seconds: float
    peak_rss_mb: float  # peak of the tree's summed PSS
    peak_rss_sum_mb: float  # peak of the tree's summed RSS (shared pages counted per process)
    returncode: int
    stderr_tail: str
    cpu_seconds: float = 0.0  # user + system of the whole process tree

    @property
    def cores(self) -> float:
        """CPU seconds per wall second: how many cores the run kept busy on average."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def run_measured(command: list[str], env: dict[str, str] | None = None, interval: float = 0.02) -> RunResult:
    """Run a command to completion, measuring wall time, CPU time and the peak RSS of its process tree."""
    peak = peak_sum = 0
    cpu: dict[int, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_sum
        while not done.is_set():
            rss, pss = tree_memory_kb(process.pid)
            peak, peak_sum = max(peak, pss), max(peak_sum, rss)
            for pid in tree_pids(process.pid):
                seconds = _cpu_seconds(pid)
                if seconds is not None:
                    cpu[pid] = max(cpu.get(pid, 0.0), seconds)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
    return RunResult(
        seconds,
        round(peak / 1024, 1),
        round(peak_sum / 1024, 1),
        process.returncode,
        "\n".join(tail),
        round(max(waited, sum(cpu.values())), 3),
    )


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system)."""
    times = os.times()
    return times.user + times.system
