"""Training speed alone and beside a busy process, for several thread settings (the OpenMP spin-wait collapse).

    .venv/bin/python benchmarks/busy_neighbour.py [--steps 60] [--window 10] [--only NAME ...] [--pairs]

Each row trains the reference configuration (`seq2seq train`, no validation) twice: alone, then beside one
single-threaded process that spins on a core the whole time (what another user's job, a test run or a second
training looks like to the scheduler). PyTorch's CPU kernels run on OpenMP (libgomp); a thread that finishes its
share of a parallel region waits for the others there, spinning first (GOMP_SPINCOUNT, 300,000 spins by default)
and then sleeping. Beside a busy process one of the training's threads is often descheduled, and every one of the
thousands of small parallel regions of an update waits for it. Rows: the package's default (`train.share_cores`:
every 5 s the training looks at how much CPU other processes used and trains on the cores they leave; `seq2seq
train` then keeps libgomp's own spin), then all cores the whole time (`train.share_cores=false`) with the short spin
that importing seq2seq sets (3,000: seq2seq/threads.py), libgomp's own default spin (300,000), other spin counts,
no spinning (`OMP_WAIT_POLICY=PASSIVE`), and one thread. Target tokens/s are the
median of the logged windows after the first. Writes benchmarks/results/busy_neighbour.json. With --pairs, each row
instead starts two such trainings at once, each the other's neighbour (busy_neighbour_pairs.json). Run it alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

FIXED = ["train.share_cores=false"]        # all cores the whole time, whatever the neighbour does
ROWS = {   # name: (environment, config overrides)
    "seq2seq default (train.share_cores: the threads follow the free cores; libgomp's spin)": ({}, []),
    "all cores fixed, GOMP_SPINCOUNT=3k (seq2seq's default before train.share_cores)": ({}, FIXED),
    "all cores fixed, libgomp's default spin (GOMP_SPINCOUNT=300k)": ({"GOMP_SPINCOUNT": "300000"}, FIXED),
    "all cores fixed, GOMP_SPINCOUNT=30k": ({"GOMP_SPINCOUNT": "30000"}, FIXED),
    "all cores fixed, GOMP_SPINCOUNT=10k": ({"GOMP_SPINCOUNT": "10000"}, FIXED),
    "all cores fixed, GOMP_SPINCOUNT=1k": ({"GOMP_SPINCOUNT": "1000"}, FIXED),
    "all cores fixed, OMP_WAIT_POLICY=PASSIVE": ({"OMP_WAIT_POLICY": "PASSIVE"}, FIXED),
    "1 thread": ({}, ["train.threads=1"]),
}

SPINNER = "while True: pass"


def inherited() -> dict[str, str]:
    """This environment without OpenMP's wait settings (importing seq2seq here set one): each row sets its own."""
    from seq2seq.threads import CHOICES, SPIN_MARK

    return {k: v for k, v in os.environ.items() if k not in (*CHOICES, SPIN_MARK)}


def measure(name: str, steps: int, window: int, busy: bool) -> dict:
    env, overrides = ROWS[name]
    spinner = subprocess.Popen([sys.executable, "-c", SPINNER]) if busy else None
    try:
        return common.reference_training([sys.executable, "-m", "seq2seq"], overrides, steps, window,
                                         env={**inherited(), **env}, clean_env=True)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def measure_pair(name: str, steps: int, window: int) -> list[dict]:
    """Two trainings of the same row started together (the neighbour is the other training)."""
    from concurrent.futures import ThreadPoolExecutor

    env, overrides = ROWS[name]
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(common.reference_training, [sys.executable, "-m", "seq2seq"], overrides, steps, window,
                            env={**inherited(), **env}, clean_env=True) for _ in range(2)]
        return [r.result() for r in runs]


def pairs(names: list[str], steps: int, window: int) -> tuple[list[dict], str]:
    """--pairs: each row's two trainings at once; their tokens/s each and together."""
    results, rows = [], []
    for name in names:
        both = measure_pair(name, steps, window)
        total = sum(r["tokens_per_s"] for r in both)
        results.append({"row": name, "trainings": both, "total_tok_s": round(total, 1)})
        rows.append([name, " / ".join(f"{r['tokens_per_s']:,.0f}" for r in both), f"{total:,.0f}",
                     " / ".join(str(sorted(set(r["threads"]))) if "threads" in r else "fixed" for r in both)])
        print(f"{name}, two at once: {rows[-1][1]} tok/s", file=sys.stderr, flush=True)
    return results, common.table(["setting", "each, target tok/s", "together", "threads seen"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60, help="updates per measurement (default 60)")
    ap.add_argument("--window", type=int, default=10, help="updates per throughput window (default 10)")
    ap.add_argument("--only", nargs="*", help="row names (substring match)")
    ap.add_argument("--pairs", action="store_true", help="instead: two trainings of each row at once (writes "
                                                         "busy_neighbour_pairs.json)")
    args = ap.parse_args()
    common.tokenizer_run()
    names = [n for n in ROWS if not args.only or any(o in n for o in args.only)]
    if args.pairs:
        results, text = pairs(names, args.steps, args.window)
        common.save("busy_neighbour_pairs", {"steps": args.steps, "window": args.window, "rows": results}, text)
        return
    results, rows = [], []
    for name in names:
        alone = measure(name, args.steps, args.window, busy=False)
        beside = measure(name, args.steps, args.window, busy=True)
        ratio = beside["tokens_per_s"] / alone["tokens_per_s"]
        results.append({"row": name, "environment": ROWS[name][0], "overrides": ROWS[name][1], "alone": alone,
                        "beside_busy": beside, "ratio": round(ratio, 3)})
        rows.append([name, alone["tokens_per_s"], beside["tokens_per_s"], f"{100 * ratio:.0f}%"])
        print(f"{name}: alone {alone['tokens_per_s']:,.0f}, beside a busy process {beside['tokens_per_s']:,.0f} "
              f"tok/s", file=sys.stderr, flush=True)
    text = common.table(["setting", "alone, target tok/s", "beside a busy process", "beside / alone"], rows)
    common.save("busy_neighbour", {"steps": args.steps, "window": args.window, "rows": results}, text)


if __name__ == "__main__":
    main()
