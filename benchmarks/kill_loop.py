"""Kill a training run again and again (SIGKILL at random moments, some in the middle of a checkpoint write), and
check after every kill what a user would then pick up: the training state `--resume` reads, the weights
`translate` reads, and no half-written file among them; at the end the resumed run must hold the very weights of an
uninterrupted one. Minutes of work, so it lives here rather than in `make test` (tests/test_faults.py kills 4 times).

    .venv/bin/python benchmarks/kill_loop.py [--kills 20] [--seed 2026]

Writes benchmarks/results/kill_loop.json.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

STEPS, SAVE_EVERY = 1500, 5
CONFIG = {
    "data": {"synthetic": {"task": "copy", "train_size": 2000, "valid_size": 100, "test_size": 100, "min_len": 2,
                           "max_len": 7, "symbols": 6, "seed": 7}},
    "tokenizer": {"type": "whitespace", "joint": True},
    "model": {"embedding_size": 32, "encoder": {"hidden_size": 64, "dropout": 0.0},
              "decoder": {"attention": "bahdanau", "hidden_size": 128, "dropout": 0.0}},
    "train": {"max_steps": STEPS, "epochs": 1000, "batch_sentences": 32, "lr": 3e-3, "valid_every": 50,
              "save_every": SAVE_EVERY, "valid_metric": "accuracy", "patience": None, "seed": 3,
              "attention_plots": 0, "threads": 1},
    "decode": {"max_len_a": 1.0, "max_len_b": 2, "batch_size": 100},
}


def seq2seq(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "seq2seq", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})


def check(run_dir: Path) -> int | None:
    """What a user picks up after the kill: the state resume reads and the weights translate reads both load, the
    weights translate; no temporary file is among what they read. The update the state holds (None: killed before
    the first checkpoint — the run is then started again, as a user would)."""
    from seq2seq import load
    from seq2seq.training.state import load_train_state

    if not (run_dir / "train_state.pt").exists():
        return None
    state = load_train_state(run_dir / "train_state.pt")
    assert len(load(run_dir, which="last").translate(["1 2 3"])) == 1
    return int(state["step"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    from safetensors.torch import load_file

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kill-loop-") as folder:
        work = Path(folder)
        config = work / "copy.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
        assert seq2seq("train", str(config), "--run-dir", str(work / "whole"), "--quiet").wait() == 0
        run_dir, rows = work / "killed", []
        first = True
        for kill in range(1, args.kills + 1):
            proc = seq2seq("train", *([str(config)] if first else ["--resume"]), "--run-dir", str(run_dir),
                           "--quiet")
            first = False
            after = rng.uniform(2.5, 5.0)                # start-up takes ~2 s; then a moment of training
            time.sleep(after)
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            temporaries = len(list(run_dir.rglob(".*.tmp")))
            step = check(run_dir)
            first = step is None
            rows.append([kill, round(after, 2), "none yet" if first else step, temporaries])
        final = seq2seq("train", "--resume", "--run-dir", str(run_dir), "--quiet").wait()
        a, b = load_file(work / "whole" / "last.safetensors"), load_file(run_dir / "last.safetensors")
        exact = final == 0 and a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    text = common.table(["kill", "after s", "checkpoint update picked up", "half-written files left"], rows)
    text += f"\n\n{len(rows)} kills; the resumed run equals the uninterrupted one bit for bit: {exact}"
    common.save("kill_loop", {"kills": len(rows), "rows": rows, "exact": exact, "steps": STEPS}, text)
    if not exact:
        raise SystemExit("the resumed run differs from the uninterrupted one")


if __name__ == "__main__":
    main()
