"""Wall-clock until dev BLEU (greedy) first reaches a target on Multi30k de→en, reference configuration.

    .venv/bin/python benchmarks/time_to_bleu.py [--target 30] [--threads 2] [--valid-every 100] [--run-dir DIR]
    .venv/bin/python benchmarks/time_to_bleu.py --from-run runs/m30k_ref [--target 30]

The first form runs `seq2seq train configs/multi30k_de_en.yaml --set train.stop_at=TARGET` as a user would (a fresh
run: tokenizer training included), validating every --valid-every updates, and reports the wall clock of the whole
command; it stops at the first validation that reaches the target. The second reads the metrics of a finished run
(training time until that validation, as the run logged it; validation granularity is that run's valid_every).
Writes benchmarks/results/time_to_bleu.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def first_reaching(run_dir: Path, target: float) -> dict:
    events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for e in events:
        if e["event"] == "valid" and e["bleu"] >= target:
            return {"step": e["step"], "epoch": e["epoch"], "bleu": e["bleu"], "run_time_s": e["time"]}
    return {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--valid-every", type=int, default=100)
    ap.add_argument("--run-dir", default=str(common.CACHE / "time_to_bleu"))
    ap.add_argument("--from-run", help="read a finished run instead of training")
    args = ap.parse_args()
    if args.from_run:
        hit = first_reaching(Path(args.from_run), args.target)
        payload = {"mode": "from run", "run_dir": args.from_run, "target": args.target, **hit}
    else:
        run_dir = Path(args.run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
        cmd = [sys.executable, "-m", "seq2seq", "train", str(common.REFERENCE), "--run-dir", str(run_dir), "--quiet",
               "--set", f"data.root={common.multi30k()}", "--set", f"train.stop_at={args.target}",
               "--set", f"train.valid_every={args.valid_every}", "--set", f"train.threads={args.threads}",
               "--set", "train.device=cpu"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=common.REPO)
        wall = time.perf_counter() - t0
        hit = first_reaching(run_dir, args.target)
        payload = {"mode": "fresh run", "command": " ".join(cmd[1:]), "target": args.target,
                   "threads": args.threads, "valid_every": args.valid_every, "wall_clock_s": round(wall, 1), **hit}
    if not hit:
        sys.exit(f"dev BLEU never reached {args.target}")
    rows = [[payload["mode"], args.target, payload["step"], payload["epoch"], payload["bleu"],
             payload.get("wall_clock_s", "–"), payload["run_time_s"]]]
    text = common.table(["mode", "target BLEU", "update", "epoch", "dev BLEU", "wall clock s (command)",
                         "training s (run log)"], rows)
    common.save("time_to_bleu", payload, text)


if __name__ == "__main__":
    main()
