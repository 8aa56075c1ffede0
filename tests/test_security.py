"""Untrusted files cannot run code: planted pickles and YAML tags are refused without being executed, and the package
source has no eval/exec, unsafe unpickling or unsafe YAML loading."""

from __future__ import annotations

import ast
import io
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seq2seq.training.train import train
from helpers import REPO, toy_config


class Payload:
    """Unpickling this calls open(marker, "w"): proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seq2seq", *args], capture_output=True, timeout=300)


def assert_refused(result: subprocess.CompletedProcess, marker: Path, *needles: str) -> None:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not marker.exists(), "the planted payload ran"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    train(toy_config("copy", max_steps=3), path, verbose=False)
    return path


def test_the_payload_really_runs_when_unpickled(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))      # the control: plain pickle would execute it
    assert marker.exists()


@pytest.mark.parametrize("form", ["torch.save", "raw pickle"])
def test_a_malicious_training_state_is_refused_without_running(run_dir, tmp_path, form):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    marker = tmp_path / "ran"
    state = copy / "train_state.pt"
    if form == "torch.save":
        buffer = io.BytesIO()
        torch.save({"model": Payload(marker)}, buffer)
        state.write_bytes(buffer.getvalue())
    else:
        state.write_bytes(pickle.dumps({"model": Payload(marker)}))
    assert not marker.exists()
    assert_refused(run("train", "--resume", "--run-dir", str(copy)), marker, "train_state.pt",
                   "cannot load training state")


@pytest.mark.parametrize("target", ["best.safetensors", "given.pt"])
def test_a_pickle_in_place_of_weights_is_refused_without_running(run_dir, tmp_path, target):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    torch.save({"decoder.generator.weight": Payload(marker)}, buffer)
    path = copy / target
    path.write_bytes(buffer.getvalue())
    args = ["--checkpoint", str(path)] if target == "given.pt" else []
    result = subprocess.run([sys.executable, "-m", "seq2seq", "translate", str(copy), *args], input=b"1 2\n",
                            capture_output=True, timeout=300)
    assert_refused(result, marker, target, "corrupted or truncated weights file")


def test_yaml_tags_that_construct_objects_are_refused(tmp_path):
    marker = tmp_path / "ran"
    config = tmp_path / "evil.yaml"
    config.write_text(f"data: !!python/object/apply:builtins.open [{marker}, w]\n")
    assert_refused(run("train", str(config), "--run-dir", str(tmp_path / "r")), marker, "evil.yaml")
    run_config = tmp_path / "run" / "config.yaml"          # the same inside a run directory
    run_config.parent.mkdir()
    (tmp_path / "run" / "format.json").write_text('{"format_version": 1}')
    run_config.write_text(f"model: !!python/object/apply:builtins.open [{marker}, w]\n")
    assert_refused(run("translate", str(tmp_path / "run")), marker, "config.yaml", "unreadable config")


def calls_in_package():
    for path in sorted((REPO / "seq2seq").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f"{getattr(f.value, 'id', '?')}.{f.attr}" \
                    if isinstance(f, ast.Attribute) else "?"
                yield path.relative_to(REPO), node.lineno, name, node


def test_the_package_never_evaluates_or_unpickles_untrusted_data():
    problems = []
    for path, line, name, node in calls_in_package():
        keywords = {k.arg: k.value for k in node.keywords}
        if name in ("eval", "exec", "compile", "pickle.load", "pickle.loads", "marshal.loads", "yaml.load",
                    "yaml.unsafe_load", "yaml.full_load"):
            problems.append(f"{path}:{line}: {name}")
        if name == "torch.load":
            safe = keywords.get("weights_only")
            if not (isinstance(safe, ast.Constant) and safe.value is True):
                problems.append(f"{path}:{line}: torch.load without weights_only=True")
    assert not problems, problems
    assert any(name == "torch.load" for _, _, name, _ in calls_in_package()), "the scan should see torch.load"
