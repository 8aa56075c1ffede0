"""Data-parallel training throughput: one process against `torchrun --nproc-per-node 2`, reference configuration.

    .venv/bin/python benchmarks/distributed_throughput.py [--steps 100] [--window 20] [--only NAME ...]

Rows: one process with 1 and with 2 threads; two torchrun processes of 1 thread each, with the reference batch of 64
sentences per process (each update sees 128) and with 32 per process (each update sees 64, as one process does).
Every row runs `seq2seq train` on Multi30k de→en for `--steps` updates (no validation, no checkpoints); rank 0 logs
the target tokens of all processes per second every `--window` updates; the first window is warm-up and the figure
is the median of the others. Writes benchmarks/results/distributed_throughput.json. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ROWS = {   # name: (processes, threads per process, sentences per process and batch)
    "1 process, 1 thread": (1, 1, 64),
    "1 process, 2 threads": (1, 2, 64),
    "torchrun 2 processes x 1 thread, 64 sentences each": (2, 1, 64),
    "torchrun 2 processes x 1 thread, 32 sentences each": (2, 1, 32),
}


def launcher(processes: int) -> list[str]:
    if processes == 1:
        return [sys.executable, "-m", "seq2seq"]
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        sys.exit("torchrun not found beside this Python (it comes with torch)")
    return [torchrun, "--standalone", "--nproc-per-node", str(processes), "-m", "seq2seq"]


def run_row(name: str, steps: int, window: int) -> dict:
    processes, threads, sentences = ROWS[name]
    measured = common.reference_training(launcher(processes), [f"train.threads={threads}",
                                                               f"train.batch_sentences={sentences}"],
                                         steps, window, env={"OMP_NUM_THREADS": str(threads)})
    return {"row": name, "processes": processes, "threads_per_process": threads, "sentences_per_process": sentences,
            "sentences_per_update": processes * sentences, "updates": steps, **measured}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100, help="updates per row (default 100)")
    ap.add_argument("--window", type=int, default=20, help="updates per throughput window (default 20)")
    ap.add_argument("--only", nargs="*", help="row names (substring match)")
    args = ap.parse_args()
    common.tokenizer_run()     # train the shared tokenizer once, outside the timed rows
    results = []
    for name in ROWS:
        if args.only and not any(o in name for o in args.only):
            continue
        results.append(run_row(name, args.steps, args.window))
        print(f"{name}: {results[-1]['tokens_per_s']:,.0f} tok/s", file=sys.stderr, flush=True)
    base = results[0]["tokens_per_s"]
    rows = [[r["row"], r["sentences_per_update"], r["tokens_per_s"], f"{min(r['windows_tok_s']):,.0f}–"
             f"{max(r['windows_tok_s']):,.0f}", f"{r['tokens_per_s'] / base:.2f}×", r["wall_s"]] for r in results]
    text = common.table(["setting", "sentences / update", "target tok/s (median)", "windows",
                         f"vs {results[0]['row']}", "wall s (incl. start)"], rows)
    common.save("distributed_throughput", {"steps": args.steps, "window": args.window, "rows": results}, text)


if __name__ == "__main__":
    main()
