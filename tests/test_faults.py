"""A crash loses nothing: SIGKILL at random moments (and in the middle of a checkpoint write), non-finite losses,
a full disk. Training runs in child processes (`python -m seq2seq train`), killed for real."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from seq2seq.inference.translator import Translator
from seq2seq.checkpoint import read_metrics
from seq2seq.training.state import load_train_state
from seq2seq.errors import InputWarning, UserError
from seq2seq.training.train import train
from helpers import toy_config

STEPS, LOG_EVERY, SAVE_EVERY, VALID_EVERY = 240, 5, 10, 40

# Runs `seq2seq train` with os.replace wrapped: the N-th time the training state is about to be renamed into place
# (its temporary file complete, the old file still there), the process SIGKILLs itself.
KILLER = """\
import os, signal, sys
from seq2seq.cli import main
target, seen, real = int(os.environ["KILL_AT_STATE_WRITE"]), [0], os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith("train_state.pt"):
        seen[0] += 1
        if seen[0] == target:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *args, **kwargs)
os.replace = replace
sys.exit(main(sys.argv[1:]))
"""


def write_config(folder: Path) -> Path:
    config = toy_config("copy", max_steps=STEPS, log_every=LOG_EVERY, save_every=SAVE_EVERY, valid_every=VALID_EVERY,
                        threads=1, keep_checkpoints=2, attention_plots=1)
    path = folder / "toy.yaml"
    path.write_text(yaml.safe_dump(config.to_dict()))
    return path


def child(*args: str, env: dict | None = None, script: str | None = None, **kwargs) -> subprocess.Popen:
    command = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "seq2seq", *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, **kwargs)


def last_logged_step(run_dir: Path) -> int:
    return max((m.get("step", 0) for m in read_metrics(run_dir) if m.get("event") == "train"), default=0)


def assert_loadable(run_dir: Path) -> int:
    """The run directory right after a kill: weights load and translate, the training state loads. Its step."""
    state = load_train_state(run_dir / "train_state.pt")
    translator = Translator.load(run_dir, which="last")
    assert len(translator.translate(["1 2 3", ""])) == 2
    return int(state["step"])


def test_sigkill_at_random_moments_loses_nothing(tmp_path):
    config = write_config(tmp_path)
    reference = tmp_path / "uninterrupted"
    done = subprocess.run([sys.executable, "-m", "seq2seq", "train", str(config), "--run-dir", str(reference),
                           "--quiet"], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()

    run_dir = tmp_path / "killed"
    rng = random.Random(2026)
    kill_after = sorted(rng.sample(range(15, STEPS - 20), 3))     # kill once the log shows these steps ...
    kills, resumed_from = 0, []
    # 1) killed in the middle of a checkpoint write: the 3rd training-state write never reaches its rename
    proc = child("train", str(config), "--run-dir", str(run_dir), "--quiet", script=KILLER,
                 env={"KILL_AT_STATE_WRITE": "3"})
    assert proc.wait(timeout=600) == -signal.SIGKILL, proc.stderr.read().decode()
    kills += 1
    assert list(run_dir.glob(".train_state.pt.*.tmp")), "the kill should have left a half-finished write behind"
    resumed_from.append(assert_loadable(run_dir))
    # 2) killed at random moments, resuming each time
    for target in kill_after:
        proc = child("train", "--resume", "--run-dir", str(run_dir), "--quiet")
        while proc.poll() is None and last_logged_step(run_dir) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))                       # ... plus a random instant
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=600)
        resumed_from.append(assert_loadable(run_dir))
    assert kills >= 3
    # 3) the last resume runs to the end
    final = subprocess.run([sys.executable, "-m", "seq2seq", "train", "--resume", "--run-dir", str(run_dir), "--quiet"],
                           capture_output=True, timeout=600)
    assert final.returncode == 0, final.stderr.decode()

    # (b) the same weights as the uninterrupted run, bit for bit
    for name in ("last.safetensors", "best.safetensors"):
        a, b = load_file(reference / name), load_file(run_dir / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    # (c) the metrics log: every logged step and validation exactly once, in order, as in the uninterrupted run
    events = read_metrics(run_dir)
    train_steps = [m["step"] for m in events if m["event"] == "train"]
    valid_steps = [m["step"] for m in events if m["event"] == "valid"]
    assert train_steps == list(range(LOG_EVERY, STEPS + 1, LOG_EVERY))
    assert valid_steps == list(range(VALID_EVERY, STEPS + 1, VALID_EVERY))
    assert [m["event"] for m in events].count("end") == 1 and events[-1]["event"] == "end"
    want = [(m["step"], m["loss"]) for m in read_metrics(reference) if m["event"] == "valid"]
    assert [(m["step"], m["loss"]) for m in events if m["event"] == "valid"] == want
    # no half-written file is left, and the resumes did start from different checkpoints
    assert not list(run_dir.rglob(".*.tmp"))
    assert len(set(resumed_from)) >= 3, resumed_from


def test_non_finite_losses_are_skipped_then_stop_training_with_the_checkpoint_intact(tmp_path):
    # a learning rate of 1e37 sends the weights towards overflow at the first update: every loss after it is NaN
    config = toy_config("copy", max_steps=50, lr=1e37, clip_norm=None, max_nonfinite=3, valid_every=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(UserError, match=r"3 non-finite losses in a row \(train.max_nonfinite=3\).*the last "
                                            r"checkpoint \(update 0\) is intact.*--resume --set train.lr="):
            train(config, tmp_path, verbose=False)
    skipped = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    assert len(skipped) == 3 and all("non-finite loss nan" in m and "update skipped" in m for m in skipped)
    events = [m for m in read_metrics(tmp_path) if m["event"] == "nonfinite"]
    assert [m["in_a_row"] for m in events] == [1, 2, 3]
    state = load_train_state(tmp_path / "train_state.pt")          # the checkpoint before the damage
    assert state["step"] == 0 and all(bool(torch.isfinite(v).all()) for v in state["model"].values())
    # resuming with a sane learning rate trains on from that checkpoint
    result = train(toy_config("copy", max_steps=30, lr=3e-3, clip_norm=None, max_nonfinite=3, valid_every=20),
                   tmp_path, resume=True, verbose=False)
    assert result.steps == 30 and result.skipped_nonfinite == 0       # none since the checkpoint
    # the log, like the weights, continues from the checkpoint: the skipped updates after it are gone from it too
    assert not [m for m in read_metrics(tmp_path) if m["event"] == "nonfinite"]
    weights = load_file(tmp_path / "last.safetensors")
    assert all(bool(torch.isfinite(v).all()) for v in weights.values())


def test_out_of_disk_while_saving_keeps_the_previous_checkpoint(tmp_path):
    config = write_config(tmp_path)
    run_dir = tmp_path / "run"
    first = subprocess.run([sys.executable, "-m", "seq2seq", "train", str(config), "--run-dir", str(run_dir),
                            "--set", "train.max_steps=20", "--quiet"], capture_output=True, timeout=600)
    assert first.returncode == 0, first.stderr.decode()
    before = {name: (run_dir / name).read_bytes() for name in ("train_state.pt", "last.safetensors")}
    limit = len(before["last.safetensors"]) // 2                # no weights file fits any more

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))   # writes past it fail with EFBIG

    proc = child("train", "--resume", "--run-dir", str(run_dir), "--set", "train.max_steps=60",
                 preexec_fn=small_disk)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 2, err
    lines = [line for line in err.splitlines() if line.startswith("seq2seq: ")]
    assert lines[-1].startswith("seq2seq: error: cannot write ") and "train_state.pt" in lines[-1], err
    assert "EFBIG" in lines[-1] and "its previous version is intact" in lines[-1], err
    assert "Traceback" not in err
    for name, data in before.items():
        assert (run_dir / name).read_bytes() == data, name
    assert not list(run_dir.rglob(".*.tmp"))
    assert_loadable(run_dir)
    # with the disk back, the run resumes from the surviving checkpoint
    again = subprocess.run([sys.executable, "-m", "seq2seq", "train", "--resume", "--run-dir", str(run_dir),
                            "--set", "train.max_steps=30", "--quiet"], capture_output=True, timeout=600)
    assert again.returncode == 0, again.stderr.decode()
    assert load_train_state(run_dir / "train_state.pt")["step"] == 30


def wait_for_step(proc: subprocess.Popen, run_dir: Path, step: int) -> None:
    while proc.poll() is None and last_logged_step(run_dir) < step:
        time.sleep(0.005)
    assert proc.poll() is None, proc.stderr.read().decode()


def test_ctrl_c_and_sigterm_save_a_resumable_checkpoint_that_ends_like_an_uninterrupted_run(tmp_path):
    # no validation and no periodic checkpoint before the signals: only the interrupt can save the updates
    config = toy_config("copy", max_steps=70, log_every=5, valid_every=100, save_minutes=None, threads=1,
                        keep_checkpoints=0, train_size=800)
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(config.to_dict()))
    reference, run_dir = tmp_path / "uninterrupted", tmp_path / "interrupted"
    done = subprocess.run([sys.executable, "-m", "seq2seq", "train", str(path), "--run-dir", str(reference),
                           "--quiet"], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()

    saved = []
    for number, (args, sig) in enumerate([((str(path),), signal.SIGINT), (("--resume",), signal.SIGTERM)]):
        proc = child("train", *args, "--run-dir", str(run_dir))
        wait_for_step(proc, run_dir, 20 + 25 * number)
        proc.send_signal(sig)
        stderr = proc.communicate(timeout=600)[1].decode()
        assert proc.returncode == 130, stderr
        assert "saved; continue with `seq2seq train --resume --run-dir" in stderr
        state = load_train_state(run_dir / "train_state.pt")
        assert state["kind"] == "interrupt" and int(state["step"]) >= 20 + 25 * number
        saved.append(int(state["step"]))
    assert saved[0] < saved[1] < 70                           # the second run resumed from the first interrupt
    final = subprocess.run([sys.executable, "-m", "seq2seq", "train", "--resume", "--run-dir", str(run_dir), "--quiet"],
                           capture_output=True, timeout=600)
    assert final.returncode == 0, final.stderr.decode()
    a, b = load_file(reference / "last.safetensors"), load_file(run_dir / "last.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
