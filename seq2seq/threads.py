"""How PyTorch's CPU threads wait for each other: set when `seq2seq` is imported, before torch is.

PyTorch's CPU kernels (and MKL's) run on OpenMP, libgomp in the pip wheels. A thread that finishes its share of a
parallel region waits there for the others: it spins first (libgomp's default: 300,000 spins) and then sleeps. An
RNN update is thousands of small regions. Beside a busy process one of the training's threads is often
descheduled, and its partner spins away the core it could have run on: the reference training fell to 30% of its
speed alone (`benchmarks/busy_neighbour.py`; 2 cores, one busy process). With a short spin (3,000) it keeps about
half, the fair share, and loses little or nothing alone; docs/performance.md has the table.

`GOMP_SPINCOUNT` is set to 3,000 unless the environment already chooses (`GOMP_SPINCOUNT` or `OMP_WAIT_POLICY`).
libgomp reads it once, when it is loaded with torch: a program that imported torch before seq2seq keeps libgomp's
default, and the CLI always imports seq2seq first.
"""

from __future__ import annotations

import os

SPIN_COUNT = "3000"
CHOICES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")


def short_openmp_spin() -> None:
    """GOMP_SPINCOUNT=3000 in this process's environment, unless the user set how OpenMP threads wait."""
    if not any(name in os.environ for name in CHOICES):
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
