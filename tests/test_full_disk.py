"""A real full disk (a small tmpfs, mounted by the test: CI runs as root): training, its checkpoints, weights and
metrics, and a synthesised WAV each meet ENOSPC. The command says "no space left on DIR" in one line and exits 2,
the previous good files survive byte for byte, and once there is room again `--resume` continues from them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_faults import assert_loadable, write_config

from seq2seq.training.state import load_train_state

FORMAT2_TTS = Path(__file__).parent / "data" / "format2_runs" / "text_to_speech"


@pytest.fixture
def disk(tmp_path):
    """A 64 MiB tmpfs at tmp_path/disk, and a function that resizes it (to a size in KiB)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root and mount(8) are needed): {made.stderr.decode().strip()}")

    def resize(kib: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={kib}k", str(mount)], check=True)

    try:
        yield mount, resize
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def used_kib(folder: Path) -> int:
    return int(subprocess.run(["du", "-sk", str(folder)], capture_output=True, text=True).stdout.split()[0])


def seq2seq(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seq2seq", *args], capture_output=True, text=True, timeout=600)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("seq2seq: error: ")][-1]


def test_training_on_a_full_disk_stops_in_one_line_keeps_its_checkpoint_and_resumes(disk, tmp_path):
    mount, resize = disk
    run_dir = mount / "run"
    first = seq2seq("train", str(write_config(tmp_path)), "--run-dir", str(run_dir), "--set", "train.max_steps=20",
                    "--quiet")
    assert first.returncode == 0, first.stderr
    names = ("train_state.pt", "last.safetensors", "best.safetensors", "metrics.jsonl")
    before = {name: (run_dir / name).read_bytes() for name in names}
    resize(used_kib(mount) + 8)                                # room for a few metrics lines, no checkpoint
    full = seq2seq("train", "--resume", "--run-dir", str(run_dir), "--set", "train.max_steps=60", "--quiet")
    line = one_error_line(full)
    assert line.startswith(f"seq2seq: error: no space left on {run_dir}"), line
    assert "ENOSPC" in line
    for name in names[:3]:
        assert (run_dir / name).read_bytes() == before[name], name
    assert not list(run_dir.rglob(".*.tmp"))
    assert assert_loadable(run_dir) == 20
    resize(64 * 1024)                                          # space is back
    again = seq2seq("train", "--resume", "--run-dir", str(run_dir), "--set", "train.max_steps=30", "--quiet")
    assert again.returncode == 0, again.stderr
    assert load_train_state(run_dir / "train_state.pt")["step"] == 30


def test_a_new_run_on_a_full_disk_is_one_line(disk, tmp_path):
    mount, resize = disk
    resize(4)
    line = one_error_line(seq2seq("train", str(write_config(tmp_path)), "--run-dir", str(mount / "run"), "--quiet"))
    assert line.startswith("seq2seq: error: no space left on "), line


def test_a_synthesis_on_a_full_disk_is_one_line_and_an_existing_wav_survives(disk, tmp_path):
    mount, resize = disk
    voice = tmp_path / "voice"
    shutil.copytree(FORMAT2_TTS, voice)
    out = mount / "out.wav"
    made = seq2seq("synthesize", str(voice), "three", "-o", str(out), "--griffin-lim-iters", "2", "--threads", "1")
    assert made.returncode == 0, made.stderr
    previous = out.read_bytes()
    resize(used_kib(mount) + 4)
    line = one_error_line(seq2seq("synthesize", str(voice), "one four", "-o", str(out), "--force",
                                  "--griffin-lim-iters", "2", "--threads", "1"))
    assert line == f"seq2seq: error: no space left on {mount}: cannot write out.wav (ENOSPC; {line.split('; ')[1]}; " \
                   f"its previous version is intact", line
    assert out.read_bytes() == previous
    assert not list(mount.glob(".*.tmp"))
