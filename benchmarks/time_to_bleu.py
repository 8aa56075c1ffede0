"""Time to quality on Multi30k de→en, reference configuration: when does dev BLEU (greedy) first reach a target,
and what does the peers' budget (2 epochs) give?

    .venv/bin/python benchmarks/time_to_bleu.py [--target 30] [--epochs 2] [--threads 2] [--run-dir DIR]
        [--precision fp32|bf16]
    .venv/bin/python benchmarks/time_to_bleu.py --from-run runs/m30k_ref [--target 30]

The first form runs `seq2seq train configs/multi30k_de_en.yaml --set train.epochs=EPOCHS` as a user would: a fresh
run, tokenizer training and validation (every 250 updates, as the recipe says) included. It reports the training
time at the first validation whose BLEU reaches the target (the run's own clock, which starts after the tokenizer and
data are ready; the first such validation, so the granularity is 250 updates), the wall clock of the whole command,
and then test_2016_flickr BLEU of the best checkpoint, greedy and beam 5 (α = 1.0) — the peers' table row.
`--precision bf16` trains and decodes with the matrix products in bfloat16 (`train.precision`, `decode.precision`).
The second form reads the metrics of a finished run. Writes benchmarks/results/time_to_bleu.json
(time_to_bleu_bf16.json for bf16).
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
            return {"step": e["step"], "epoch": e["epoch"], "dev_bleu": e["bleu"], "run_time_s": e["time"]}
    return {}


def test_bleu(run_dir: Path, beam: int, threads: int, precision: str) -> float:
    options = ["--beam-size", str(beam), "--alpha", "1.0", "--threads", str(threads), "--precision", precision]
    return common.evaluate(run_dir, "test_2016_flickr", options)["bleu"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=float, default=30.0)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--run-dir", help="where the fresh run goes (default: a cache folder per precision)")
    ap.add_argument("--from-run", help="read a finished run instead of training")
    args = ap.parse_args()
    if args.from_run:
        run_dir = Path(args.from_run)
        payload = {"mode": "from run", "run_dir": args.from_run, "target": args.target}
    else:
        run_dir = Path(args.run_dir or common.CACHE / f"time_to_bleu_{args.precision}")
        shutil.rmtree(run_dir, ignore_errors=True)
        cmd = [sys.executable, "-m", "seq2seq", "train", str(common.REFERENCE), "--run-dir", str(run_dir), "--quiet",
               "--set", f"data.root={common.multi30k()}", "--set", f"train.epochs={args.epochs}",
               "--set", f"train.threads={args.threads}", "--set", "train.device=cpu",
               "--set", f"train.precision={args.precision}", "--set", f"decode.precision={args.precision}"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=common.REPO)
        wall = time.perf_counter() - t0
        payload = {"mode": "fresh run", "command": " ".join(cmd[1:]), "target": args.target, "epochs": args.epochs,
                   "threads": args.threads, "precision": args.precision, "wall_clock_s": round(wall, 1)}
    hit = first_reaching(run_dir, args.target)
    if not hit:
        sys.exit(f"dev BLEU never reached {args.target}")
    payload.update(hit)
    payload["test_bleu_greedy"] = test_bleu(run_dir, 1, args.threads, args.precision)
    payload["test_bleu_beam5"] = test_bleu(run_dir, 5, args.threads, args.precision)
    wall = payload.get("wall_clock_s")
    rows = [[f"{payload['mode']}, {args.precision}", f"{hit['run_time_s']:.0f} s (update {hit['step']:,}, dev {hit['dev_bleu']})",
             f"{wall // 60:.0f} min {wall % 60:.0f} s" if wall else "–",
             f"{payload['test_bleu_greedy']} / {payload['test_bleu_beam5']}"]]
    text = common.table(["run", f"training time to dev BLEU ≥ {args.target:g}",
                         f"wall clock, {args.epochs} epochs (whole command)", "test BLEU greedy / beam 5"], rows)
    common.save("time_to_bleu" + ("_bf16" if args.precision == "bf16" else ""), payload, text)


if __name__ == "__main__":
    main()
