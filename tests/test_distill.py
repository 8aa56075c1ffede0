"""experiments/distill.py: a data folder whose training targets are the teacher's translations of the training
sources (exactly what `seq2seq translate` writes), every other file linked untouched; a student trains on it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seq2seq.cli import main
from seq2seq.config import validate
from seq2seq.training.train import train
from helpers import toy_config

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "distill.py"


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    path = tmp_path_factory.mktemp("distill") / "teacher"
    train(toy_config("reverse", train_size=300, epochs=10, valid_every=10, max_steps=30), path, verbose=False)
    return path


def distill(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_the_training_targets_are_the_teacher_s_translations_and_the_rest_is_linked(teacher, tmp_path):
    data, out = teacher / "data", tmp_path / "distilled"
    done = distill("--teachers", teacher, "--data", data, "--src-lang", "src", "--tgt-lang", "tgt",
                   "--output", out, "--beam-size", "2", "--alpha", "1.0", "--threads", "1")
    assert done.returncode == 0, done.stderr

    translated = tmp_path / "translated.tgt"
    assert main(["translate", str(teacher), "-i", str(data / "train.src"), "-o", str(translated),
                 "--beam-size", "2", "--alpha", "1.0", "--threads", "1"]) == 0
    assert (out / "train.tgt").read_text() == translated.read_text()
    assert (out / "train.tgt").read_text() != (data / "train.tgt").read_text()     # a 30-update teacher errs
    for name in ("train.src", "valid.src", "valid.tgt", "test.src", "test.tgt"):
        assert (out / name).is_symlink() and (out / name).read_text() == (data / name).read_text()
    record = json.loads((out / "distill.json").read_text())
    assert record["lines"] == len((data / "train.src").read_text().splitlines()) and record["beam_size"] == 2

    config = validate({"data": {"root": str(out), "src_lang": "src", "tgt_lang": "tgt", "train": "train",
                                "valid": "valid"},
                       "tokenizer": {"type": "whitespace"},
                       "train": {"max_steps": 2, "valid_every": 2, "attention_plots": 0}})
    student = tmp_path / "student"
    train(config, student, verbose=False)
    assert (student / "best.safetensors").is_file()


def test_an_existing_output_folder_is_refused_in_one_line(teacher, tmp_path):
    done = distill("--teachers", teacher, "--data", teacher / "data", "--src-lang", "src", "--tgt-lang", "tgt",
                   "--output", tmp_path)
    assert done.returncode != 0 and done.stderr.strip() == f"{tmp_path} exists; distillation writes a new folder"


def test_a_failing_teacher_leaves_no_folder_behind(teacher, tmp_path):
    out = tmp_path / "distilled"
    done = distill("--teachers", tmp_path / "no_such_run", "--data", teacher / "data", "--src-lang", "src",
                   "--tgt-lang", "tgt", "--output", out)
    assert done.returncode != 0 and done.stderr.strip().startswith("seq2seq translate failed: ")
    assert list(tmp_path.iterdir()) == []                     # neither the folder nor its temporary twin
