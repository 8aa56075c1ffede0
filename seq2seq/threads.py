"""PyTorch's CPU threads: how they wait for each other, and how many a training uses while it shares the machine.

PyTorch's CPU kernels (and MKL's) run on OpenMP, libgomp in the pip wheels. A thread that finishes its share of a
parallel region waits there for the others: it spins first (libgomp's default: 300,000 spins) and then sleeps. An
RNN update is thousands of small regions. Beside a busy process one of the training's threads is often
descheduled, and its partner spins away the core it could have run on: the reference training fell to 29–32% of
its speed alone (`benchmarks/busy_neighbour.py`; 2 cores, one busy process). Two answers, measured there:

- `short_openmp_spin`: importing seq2seq sets `GOMP_SPINCOUNT=3000` unless the environment already chooses
  (`GOMP_SPINCOUNT` or `OMP_WAIT_POLICY`). Beside a busy process that keeps 41–51%; alone it costs 0–12%.
- `CoreShare`: training (`train.share_cores`, on by default) looks every few seconds at how much CPU the other
  processes used and trains on the cores they leave: one thread beside one busy process on 2 cores keeps one
  thread's full speed (63% of the 2-thread speed alone, 1.49x the short spin's). With it the long spin costs
  nothing beside a neighbour, so `seq2seq train` keeps libgomp's default (`long_openmp_spin_for_training`).

libgomp reads the spin setting once, when it is loaded with torch: a program that imported torch before seq2seq
keeps libgomp's default, and the CLI imports seq2seq first and torch only when a command needs it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Mapping, Optional

SPIN_COUNT = "3000"
CHOICES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
SPIN_MARK = "SEQ2SEQ_SHORT_SPIN"   # marks a GOMP_SPINCOUNT that this module chose, not the user (children inherit it)

STAT = "/proc/stat"
TAKEN = 0.3                 # a core counts as taken once other processes used more than this share of it
EVERY_S = 5.0               # seconds between two looks


def short_openmp_spin() -> None:
    """GOMP_SPINCOUNT=3000 in this process's environment, unless the user set how OpenMP threads wait."""
    if not any(name in os.environ for name in CHOICES):
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
        os.environ[SPIN_MARK] = SPIN_COUNT


def without_package_spin(env: Mapping[str, str]) -> dict[str, str]:
    """`env` less the spin-wait that short_openmp_spin chose (a user's own GOMP_SPINCOUNT stays): for a child
    process that should get libgomp's default, or choose its own."""
    ours = env.get(SPIN_MARK) is not None and env.get(SPIN_MARK) == env.get("GOMP_SPINCOUNT")
    return {k: v for k, v in env.items() if k != SPIN_MARK and not (ours and k == "GOMP_SPINCOUNT")}


def long_openmp_spin_for_training() -> None:
    """libgomp's own spin-wait for a training that shares cores (CoreShare), unless the user chose one; only
    before torch is loaded (afterwards the setting would not be read)."""
    if "torch" not in sys.modules:
        kept = without_package_spin(os.environ)
        for name in ("GOMP_SPINCOUNT", SPIN_MARK):
            if name not in kept:
                os.environ.pop(name, None)


@dataclass(frozen=True)
class CpuTimes:
    """One look at the CPU time spent so far, in seconds."""

    wall: float         # time.monotonic()
    busy: float         # by every process, on the cores this process may run on (/proc/stat)
    own: float          # by this process, all its threads (os.times)


def usable_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


def read_cpu_times(cores: list[int]) -> Optional[CpuTimes]:
    """Busy time of `cores` from /proc/stat (user, nice, system, irq, softirq: not idle, iowait or steal) and this
    process's own; None where /proc/stat cannot be read (not Linux)."""
    try:
        with open(STAT, encoding="ascii") as f:
            lines = f.readlines()
    except OSError:
        return None
    wanted, busy = {f"cpu{i}" for i in cores}, 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] in wanted:
            user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
            busy += user + nice + system + irq + softirq
    own = os.times()
    return CpuTimes(time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), own.user + own.system)


def threads_left(others: float, cores: int, most: int) -> int:
    """Threads for the cores that other processes, using `others` cores' worth of CPU, leave: a core counts as
    taken once they used more than TAKEN of it; at least 1, at most `most`."""
    taken = max(0, math.ceil(others - TAKEN))
    return max(1, min(most, cores - taken))


class CoreShare:
    """Trains on the cores other processes leave free: `poll()` after each update; every `every` seconds it looks
    at how much CPU the rest of the machine used since the last look and sets torch's thread count, between 1 and
    `most`. A no-op for `most` 1, for more threads than usable cores (asked for on purpose), or where /proc/stat
    cannot be read."""

    def __init__(self, most: int, every: float = EVERY_S):
        self.most, self.every = most, every
        self.cores = usable_cores()
        self.threads = most
        self.last = read_cpu_times(self.cores) if 1 < most <= len(self.cores) else None

    def others(self, now: CpuTimes) -> float:
        """Cores' worth of CPU the other processes used since the last look."""
        assert self.last is not None
        wall = max(1e-9, now.wall - self.last.wall)
        return max(0.0, (now.busy - self.last.busy) - (now.own - self.last.own)) / wall

    def poll(self) -> Optional[int]:
        """The new thread count when it changed at this look, else None."""
        if self.last is None or time.monotonic() - self.last.wall < self.every:
            return None
        now = read_cpu_times(self.cores)
        if now is None:
            return None
        wanted = threads_left(self.others(now), len(self.cores), self.most)
        self.last = now
        if wanted == self.threads:
            return None
        import torch

        torch.set_num_threads(wanted)
        self.threads = wanted
        return wanted
