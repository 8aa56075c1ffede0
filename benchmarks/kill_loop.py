"""Kill a training run again and again (SIGKILL at random moments, and every other time in the middle of a write of
the training state or the weights: the temporary file complete, not yet renamed), and
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


# `seq2seq train` with os.replace wrapped: the N-th time FILE is about to be renamed into place (its temporary file
# complete, the old file still there) the process SIGKILLs itself — a kill in the middle of a checkpoint write.
IN_WRITE = """\
import os, signal, sys
from seq2seq.cli import main
name, target, seen, real = os.environ["KILL_FILE"], int(os.environ["KILL_AT"]), [0], os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith(name):
        seen[0] += 1
        if seen[0] == target:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = replace
sys.exit(main(sys.argv[1:]))
"""
WRITTEN = ("train_state.pt", "last.safetensors")      # written at every save (best only when it improves)


def seq2seq(*args: str, in_write: tuple[str, int] | None = None) -> subprocess.Popen:
    """`seq2seq ARGS`, or (in_write=(FILE, N)) the same killing itself at the N-th write of FILE."""
    command = [sys.executable, "-c", IN_WRITE, *args] if in_write else [sys.executable, "-m", "seq2seq", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if in_write:
        env.update(KILL_FILE=in_write[0], KILL_AT=str(in_write[1]))
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


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
            command = ("train", *([str(config)] if first else ["--resume"]), "--run-dir", str(run_dir), "--quiet")
            first = False
            if kill % 2 == 0:                            # every other kill lands in the middle of a write
                target = (rng.choice(WRITTEN), rng.randint(2, 6))
                proc, how = seq2seq(*command, in_write=target), f"writing {target[0]} (#{target[1]})"
                if proc.wait() != -signal.SIGKILL:
                    break
            else:
                after = rng.uniform(2.5, 5.0)            # start-up takes ~2 s; then a moment of training
                proc, how = seq2seq(*command), f"after {after:.2f} s"
                time.sleep(after)
                if proc.poll() is not None:
                    break
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            temporaries = len(list(run_dir.rglob(".*.tmp")))
            step = check(run_dir)
            first = step is None
            rows.append([kill, how, "none yet" if first else step, temporaries])
        final = seq2seq("train", "--resume", "--run-dir", str(run_dir), "--quiet").wait()
        a, b = load_file(work / "whole" / "last.safetensors"), load_file(run_dir / "last.safetensors")
        exact = final == 0 and a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    text = common.table(["kill", "when", "checkpoint update picked up", "half-written files left"], rows)
    text += f"\n\n{len(rows)} kills; the resumed run equals the uninterrupted one bit for bit: {exact}"
    common.save("kill_loop", {"kills": len(rows), "rows": rows, "exact": exact, "steps": STEPS}, text)
    if not exact:
        raise SystemExit("the resumed run differs from the uninterrupted one")


if __name__ == "__main__":
    main()
