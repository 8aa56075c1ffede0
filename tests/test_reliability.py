"""Bad input gets one clear line on stderr and a non-zero exit; legal but odd input gets a correct result and a
warning. Each case of docs/reliability.md that is about input lives here (faults: test_faults.py; untrusted files:
test_security.py). The CLI runs in-process (`seq2seq.cli.main`), as it does from the console script."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seq2seq.cli import main
from seq2seq.training.train import train
from helpers import FAMILIES, toy_config


def cli(capsys, *args: str, stdin: bytes | None = None, monkeypatch=None) -> tuple[int, str, list[str]]:
    """(exit code, stdout, non-empty stderr lines) of `seq2seq ARGS`."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]


def one_error(result, *needles: str) -> str:
    code, _, err = result
    assert code != 0, err
    assert len(err) == 1, err
    assert err[0].startswith("seq2seq: error: "), err
    for needle in needles:
        assert needle in err[0], (needle, err[0])
    return err[0]


def warnings_of(err: list[str]) -> list[str]:
    return [line for line in err if line.startswith("seq2seq: warning: ")]


# ----------------------------------------------------------------------------------------------------------------
# Config

CONFIG = """\
data: {{root: {root}, src_lang: src, tgt_lang: tgt, train: train, valid: valid}}
tokenizer: {{type: whitespace}}
model:
  embedding_size: 8
  encoder: {{hidden_size: 8}}
  decoder: {{attention: bahdanau, hidden_size: 8}}
train: {{max_steps: 2, batch_sentences: 4, attention_plots: 0, threads: 1}}
"""


def write_corpus(folder: Path, src: list[str] | None = None, tgt: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    src = src if src is not None else [f"a b {i % 7}" for i in range(20)]
    tgt = tgt if tgt is not None else [" ".join(reversed(s.split())) for s in src]
    (folder / "train.src").write_text("".join(s + "\n" for s in src), encoding="utf-8")
    (folder / "train.tgt").write_text("".join(t + "\n" for t in tgt), encoding="utf-8")
    (folder / "valid.src").write_text("a b 1\na 2\n")
    (folder / "valid.tgt").write_text("1 b a\n2 a\n")
    config = folder / "c.yaml"
    config.write_text(CONFIG.format(root=folder))
    return config


@pytest.mark.parametrize("override,needles", [
    ("model.decoder.atention=x", ["--set model.decoder.atention", "unknown key",
                                  "did you mean 'model.decoder.attention'"]),
    ("train.epochs=ten", ["train.epochs", "'ten'", "integer"]),
    ("model.encoder.hidden_size=-3", ["model.encoder.hidden_size", "-3", "greater than 0"]),
    ("model.embedding_size=0", ["model.embedding_size", "0", "greater than 0"]),
    ("model.decoder.dropout=1", ["model.decoder.dropout", "1", "less than 1"]),
    ("decode.beam_size=0", ["decode.beam_size", "0", "greater than or equal to 1"]),
    ("train.lr=-1e-3", ["train.lr", "-1e-3", "greater than 0"]),
    ("model.decoder.input_feeding=true", ["model.decoder", "input_feeding", "only to attention=luong", "bahdanau"]),
    ("model.decoder.score=dot", ["score='dot'", "only to attention=luong"]),
    ("train.batch_tokens=100", ["batch_sentences or batch_tokens, not both"]),
])
def test_bad_config_values_name_the_key_the_value_and_what_is_allowed(tmp_path, capsys, override, needles):
    config = write_corpus(tmp_path)
    if override.startswith("train.batch_tokens"):   # --set replaces the other budget: give both in the file
        config.write_text(config.read_text().replace("batch_sentences: 4", "batch_sentences: 4, batch_tokens: 100"))
        override = "train.seed=1"
    one_error(cli(capsys, "train", str(config), "--set", override, "--run-dir", str(tmp_path / "r")), *needles)
    assert not (tmp_path / "r").exists()


def test_config_file_problems(tmp_path, capsys):
    one_error(cli(capsys, "train", str(tmp_path / "nope.yaml")), "config file not found", "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("data:\n  root: x\n  train: [a, b\nmodel: {}\n")
    one_error(cli(capsys, "train", str(broken)), "broken.yaml", "line", "column", "YAML syntax error")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    one_error(cli(capsys, "train", str(scalar)), "scalar.yaml", "expected a mapping")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("data: {root: café}\n".encode("latin-1"))
    one_error(cli(capsys, "train", str(latin1)), "latin1.yaml", "not UTF-8", "byte offset 16")
    # a data path is resolved relative to the config file and reported when missing
    config = write_corpus(tmp_path / "corpus")
    config.write_text(config.read_text().replace(str(tmp_path / "corpus"), "../elsewhere"))
    one_error(cli(capsys, "train", str(config), "--run-dir", str(tmp_path / "r")),
              "file not found", str(tmp_path / "elsewhere" / "train.src"))


def test_a_run_directory_that_cannot_be_made_is_one_line(tmp_path, capsys):
    config = write_corpus(tmp_path / "corpus")
    blocker = tmp_path / "a_file"
    blocker.write_text("in the way")
    for run_dir, why in ((blocker / "run", "Not a directory"), (Path("/proc/seq2seq-test/run"), "No such file")):
        one_error(cli(capsys, "train", str(config), "--run-dir", str(run_dir)),
                  f"cannot create the run directory {run_dir}: {why}")


# ----------------------------------------------------------------------------------------------------------------
# Training data

def test_training_data_errors(tmp_path, capsys):
    run = str(tmp_path / "r")
    config = write_corpus(tmp_path / "a", tgt=["x"] * 19)
    one_error(cli(capsys, "train", str(config), "--run-dir", run), "train.src has 20 lines", "train.tgt has 19 lines")
    config = write_corpus(tmp_path / "b", src=[], tgt=[])
    one_error(cli(capsys, "train", str(config), "--run-dir", run), "parallel files are empty", "train.src")
    config = write_corpus(tmp_path / "c")
    with (tmp_path / "c" / "train.tgt").open("ab") as f:
        f.write(b"ok\n\xff\xfe broken\n")
    with (tmp_path / "c" / "train.src").open("ab") as f:
        f.write(b"ok\nfine\n")
    offset = (tmp_path / "c" / "train.tgt").read_bytes().index(b"\xff")
    one_error(cli(capsys, "train", str(config), "--run-dir", run), "train.tgt", "line 22 is not valid UTF-8",
              f"byte offset {offset}")
    config = write_corpus(tmp_path / "d")
    one_error(cli(capsys, "train", str(config), "--set", "data.tgt_lang=src", "--run-dir", run),
              "source and target are the same file", "train.src")
    config = write_corpus(tmp_path / "e", src=[""] * 5, tgt=["x"] * 5)
    one_error(cli(capsys, "train", str(config), "--run-dir", run), "no training pairs left", "5 with an empty side")
    assert not Path(run, "train_state.pt").exists()


def test_crlf_line_endings_train_exactly_like_lf_with_a_warning(tmp_path, capsys):
    lf = write_corpus(tmp_path / "lf")
    crlf = write_corpus(tmp_path / "crlf")
    for name in ("train.src", "train.tgt"):
        path = tmp_path / "crlf" / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    code, _, err = cli(capsys, "train", str(lf), "--run-dir", str(tmp_path / "r-lf"), "--quiet")
    assert code == 0 and not warnings_of(err), err
    code, _, err = cli(capsys, "train", str(crlf), "--run-dir", str(tmp_path / "r-crlf"), "--quiet")
    assert code == 0, err
    assert any("train.src" in w and "CRLF" in w for w in warnings_of(err)), err
    a, b = load_file(tmp_path / "r-lf" / "last.safetensors"), load_file(tmp_path / "r-crlf" / "last.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    vocab = json.loads((tmp_path / "r-crlf" / "tokenizer" / "joint.vocab.json").read_text())
    assert not any("\r" in s for s in vocab["symbols"])


def test_blank_lines_a_1mb_line_and_validation_equal_to_training_are_warned_about(tmp_path, capsys):
    src = [f"a b {i % 7}" for i in range(20)]
    tgt = [" ".join(reversed(s.split())) for s in src]
    src[3], tgt[3] = "", ""                                   # a blank pair
    src[5] = "   "                                            # whitespace only on one side
    src[8] = " ".join(["a b c d"] * 131_072)                  # one line of about 1 MB
    config = write_corpus(tmp_path, src, tgt)
    assert len(src[8].encode()) > 1_000_000
    code, _, err = cli(capsys, "train", str(config), "--set", "data.valid=train", "--run-dir", str(tmp_path / "r"),
                       "--quiet")
    assert code == 0, err
    found = warnings_of(err)
    assert any("2 training pairs with an empty" in w and "lines 4, 6" in w for w in found), found
    assert any("1 training pairs longer than data.max_len=100" in w and "lines 9" in w for w in found), found
    assert any("validation corpus is the training corpus" in w for w in found), found
    assert (tmp_path / "r" / "best.safetensors").is_file()


# ----------------------------------------------------------------------------------------------------------------
# Inference input

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    train(toy_config("copy", FAMILIES["bahdanau"], max_steps=3), path, verbose=False)
    return path


def test_every_input_line_gives_one_output_line_whatever_it_holds(run_dir, capsys, monkeypatch):
    lines = [
        "a b c".encode(),
        b"",                                                      # empty
        b" \t  ",                                                 # whitespace only
        " ".join(["a"] * 10_000).encode(),                        # 10,000 tokens
        "a\x00b\x07c \x1b[31m d\x0be\x0cf\x1c\x1d\x1e\x85g \u2028 h\u2029 i\rj".encode(),   # control characters
        "漢字 ελληνικά עברית 🙂 a".encode(),                        # scripts the tokenizer never saw
        b"a \xff\xfe b \xc3",                                     # invalid UTF-8
        "b c".encode(),
    ]
    stdin = b"\n".join(lines) + b"\n"
    for extra in (["--beam-size", "3"], []):
        code, out, err = cli(capsys, "translate", str(run_dir), *extra, stdin=stdin, monkeypatch=monkeypatch)
        assert code == 0, err
        assert out.count("\n") == len(lines) and len(out.splitlines()) == len(lines)   # even str.splitlines
        outputs = out.split("\n")[:-1]
        assert outputs[1] == "" and outputs[2] == ""
        assert outputs[0] != "" and outputs[-1] != ""
        found = warnings_of(err)
        assert len(found) == len(err) == 3, err
        assert any("line 4: 10000 source tokens, truncated" in w for w in found)
        assert any("<stdin>: line 7 is not valid UTF-8" in w for w in found)
        assert any("input lines contain symbols" in w and "漢" in w for w in found)
    # a line alone gives the same (greedy) output as inside the batch: nothing leaks between lines
    code, single, _ = cli(capsys, "translate", str(run_dir), stdin=lines[5] + b"\n", monkeypatch=monkeypatch)
    assert single.split("\n")[0] == outputs[5]


def test_translate_input_file_problems(run_dir, tmp_path, capsys):
    one_error(cli(capsys, "translate", str(run_dir), "--input", str(tmp_path / "missing.txt")),
              "file not found", "missing.txt")
    one_error(cli(capsys, "translate", str(run_dir), "--input", str(tmp_path)), "not a file")
    short = tmp_path / "short.txt"
    short.write_text("a b\n")
    one_error(cli(capsys, "evaluate", str(run_dir), "--src", str(run_dir / "data" / "test.src"), "--ref", str(short)),
              "test.src has 200 lines", "short.txt has 1")


# ----------------------------------------------------------------------------------------------------------------
# Run directories

def damaged(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


@pytest.mark.parametrize("case,needles", [
    ("no format file", ["not a run directory", "format.json missing"]),
    ("no config", ["not a run directory", "config.yaml missing"]),
    ("no weights", ["weights file not found", "best.safetensors"]),
    ("no tokenizer", ["no tokenizer files"]),
    ("truncated weights", ["best.safetensors", "corrupted or truncated weights file"]),
    ("garbage weights", ["best.safetensors", "corrupted or truncated weights file"]),
    ("truncated tokenizer", ["joint.vocab.json", "corrupted or truncated tokenizer file"]),
    ("newer format", ["run-directory format 99 is not supported", "reads format 1"]),
    ("config does not match weights", ["best.safetensors", "weights do not match the run's config", "shape"]),
    ("config edited badly", ["config.yaml", "model.decoder.hidden_size", "greater than 0"]),
])
def test_damaged_run_directories(run_dir, tmp_path, capsys, case, needles):
    run = damaged(run_dir, tmp_path)
    if case == "no format file":
        (run / "format.json").unlink()
    elif case == "no config":
        (run / "config.yaml").unlink()
    elif case == "no weights":
        (run / "best.safetensors").unlink()
        (run / "last.safetensors").unlink()
    elif case == "no tokenizer":
        shutil.rmtree(run / "tokenizer")
    elif case == "truncated weights":
        data = (run / "best.safetensors").read_bytes()
        (run / "best.safetensors").write_bytes(data[: len(data) // 2])
    elif case == "garbage weights":
        (run / "best.safetensors").write_bytes(bytes(range(256)) * 40)
    elif case == "truncated tokenizer":
        path = run / "tokenizer" / "joint.vocab.json"
        path.write_bytes(path.read_bytes()[:7])
    elif case == "newer format":
        (run / "format.json").write_text(json.dumps({"format_version": 99, "seq2seq": "9.0"}))
    elif case == "config does not match weights":
        path = run / "config.yaml"
        path.write_text(path.read_text().replace("hidden_size: 128", "hidden_size: 96"))
    elif case == "config edited badly":
        path = run / "config.yaml"
        path.write_text(path.read_text().replace("hidden_size: 128", "hidden_size: -128"))
    one_error(cli(capsys, "translate", str(run), "--input", str(run / "data" / "test.src")), *needles)


def test_damaged_training_state(run_dir, tmp_path, capsys):
    run = damaged(run_dir, tmp_path)
    state = run / "train_state.pt"
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 3])
    one_error(cli(capsys, "train", "--resume", "--run-dir", str(run)), "train_state.pt", "cannot load training state")
    torch.save({"model": {}, "step": 3}, state)           # what an older, incompatible version might have written
    one_error(cli(capsys, "train", "--resume", "--run-dir", str(run)), "train_state.pt",
              "not a training state of this version", "optimizer")
    state.unlink()
    one_error(cli(capsys, "train", "--resume", "--run-dir", str(run)), "cannot resume", "train_state.pt not found")
    one_error(cli(capsys, "train", "--resume", "--run-dir", str(tmp_path / "nowhere")), "run directory not found")
