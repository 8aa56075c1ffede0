"""The command line: one-line errors for user mistakes, one output line per input line, clear help."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seq2seq.training.train import train
from helpers import FAMILIES, toy_config

CONFIG = """\
data:
  root: {root}
  src_lang: src
  tgt_lang: tgt
  train: train
  valid: valid
tokenizer: {{type: whitespace}}
model:
  embedding_size: 8
  encoder: {{hidden_size: 8}}
  decoder: {{attention: bahdanau, hidden_size: 8}}
train: {{max_steps: 2, batch_sentences: 2}}
"""


def run(*args, stdin: str | bytes = b"", cwd=None):
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "seq2seq", *args], input=data, capture_output=True, cwd=cwd,
                          timeout=300)


def write_corpus(folder: Path, n_src: int = 6, n_tgt: int = 6) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.src").write_text("".join(f"a b {i}\n" for i in range(n_src)))
    (folder / "train.tgt").write_text("".join(f"{i} b a\n" for i in range(n_tgt)))
    (folder / "valid.src").write_text("a b 1\na 2\n")
    (folder / "valid.tgt").write_text("1 b a\n2 a\n")


def assert_one_line_error(result, *needles):
    err = result.stderr.decode()
    assert result.returncode != 0
    assert "Traceback" not in err, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    train(toy_config("copy", FAMILIES["bahdanau"], max_steps=3), path, verbose=False)
    return path


def test_unknown_config_key_names_key_and_allowed(tmp_path):
    write_corpus(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(root=tmp_path).replace("attention: bahdanau", "attention: bahdanau, atention: x"))
    result = run("train", str(cfg), "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "c.yaml: unknown key 'model.decoder.atention'; did you mean 'model.decoder.attention'")


def test_bad_config_value_names_key_value_and_allowed(tmp_path):
    write_corpus(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(root=tmp_path))
    result = run("train", str(cfg), "--set", "model.decoder.attention=luon", "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "model.decoder.attention", "'luon'", "'bahdanau'", "'luong'")
    result = run("train", str(cfg), "--set", "model.encoder.dropout=1.5", "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "model.encoder.dropout", "1.5", "less than 1")
    result = run("train", str(cfg), "--set", "train.lrr=1", "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "--set train.lrr: unknown key 'train.lrr'; did you mean 'train.lr'?")
    result = run("train", str(cfg), "--set", "train.nonsense=1", "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "--set train.nonsense: unknown key", "allowed here: seed, epochs")


def test_missing_data_file(tmp_path):
    write_corpus(tmp_path)
    (tmp_path / "train.tgt").unlink()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(root=tmp_path))
    result = run("train", str(cfg), "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "not found", str(tmp_path / "train.tgt"))


def test_missing_config_file(tmp_path):
    assert_one_line_error(run("train", str(tmp_path / "nope.yaml")), "nope.yaml")


def test_mismatched_parallel_files(tmp_path):
    write_corpus(tmp_path, n_src=6, n_tgt=5)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(root=tmp_path))
    result = run("train", str(cfg), "--run-dir", str(tmp_path / "r"))
    assert_one_line_error(result, "train.src", "6 lines", "train.tgt", "5 lines")


def test_train_from_config_file_end_to_end(tmp_path):
    write_corpus(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(root=tmp_path))
    result = run("train", str(cfg), "--run-dir", str(tmp_path / "r"), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    out = run("translate", str(tmp_path / "r"), stdin="a b 3\n")
    assert out.returncode == 0 and len(out.stdout.decode().splitlines()) == 1


def test_translate_writes_one_line_per_input_line(run_dir, tmp_path):
    text = "a b c\n\n   \nd e f a\n\nb\n"
    result = run("translate", str(run_dir), stdin=text)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode().split("\n")
    assert out[-1] == "" and len(out) - 1 == 6
    assert out[1] == "" and out[2] == "" and out[4] == ""
    # the same through --input/--output, and an input file without a final newline
    (tmp_path / "in.txt").write_text(text.rstrip("\n"))
    result = run("translate", str(run_dir), "--input", str(tmp_path / "in.txt"), "--output", str(tmp_path / "o"))
    assert result.returncode == 0
    assert (tmp_path / "o").read_text().split("\n")[:-1] == out[:-1]
    beam = run("translate", str(run_dir), "--beam-size", "3", "--alpha", "0.6", stdin=text)
    assert beam.returncode == 0 and len(beam.stdout.decode().split("\n")) - 1 == 6
    assert_one_line_error(run("translate", str(run_dir), "--beam-size", "0", stdin=text), "--beam-size 0")
    jsonl = run("translate", str(run_dir), "--n-best", "3", "--jsonl", stdin=text)
    records = [json.loads(line) for line in jsonl.stdout.decode().splitlines()]
    assert len(records) == 6 and records[1] == {"n_best": [{"text": "", "score": 0.0, "tokens": []}]}
    scores = [h["score"] for h in records[0]["n_best"]]
    assert 1 <= len(scores) <= 3 and len({h["text"] for h in records[0]["n_best"]}) == len(scores)
    # plain n-best: Moses format, each hypothesis with its input line (from 0) and score, best first
    nbest = run("translate", str(run_dir), "--n-best", "3", stdin=text)
    assert nbest.returncode == 0
    rows = [line.split(" ||| ") for line in nbest.stdout.decode().splitlines()]
    assert rows == [[str(number), h["text"], f"{h['score']:.4f}"]
                    for number, record in enumerate(records) for h in record["n_best"]]


def test_translate_survives_invalid_utf8_and_long_lines(run_dir):
    long_line = " ".join(["a"] * 500)
    result = run("translate", str(run_dir), stdin=b"a b\n\xff\xfe c\n" + long_line.encode() + b"\n")
    assert result.returncode == 0, result.stderr.decode()
    assert len(result.stdout.decode().split("\n")) - 1 == 3
    assert "line 3" in result.stderr.decode() and "truncated" in result.stderr.decode()


def test_evaluate_prints_bleu_and_chrf_with_signatures(run_dir):
    data = run_dir / "data"
    result = run("evaluate", str(run_dir), "--src", str(data / "test.src"), "--ref", str(data / "test.tgt"), "--json")
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert {"bleu", "chrf", "bleu_signature", "chrf_signature"} <= report.keys()
    assert "tok:13a" in report["bleu_signature"]
    text = run("evaluate", str(run_dir), "--src", str(data / "test.src"), "--ref", str(data / "test.tgt"))
    assert "BLEU = " in text.stdout.decode() and "chrF = " in text.stdout.decode()


def test_run_dir_errors(tmp_path):
    assert_one_line_error(run("translate", str(tmp_path / "missing")), "run directory not found")
    assert_one_line_error(run("translate", str(tmp_path)), "not a run directory")


@pytest.mark.parametrize("command", ["train", "translate", "evaluate", "attention", "report", "demo", "average",
                                     "config", "serve", "runs", "vocab"])
def test_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and b"usage: seq2seq " + command.encode() in result.stdout


def test_config_lists_every_field():
    result = run("config")
    assert result.returncode == 0
    for key in ("model.decoder.attention", "train.batch_tokens", "tokenizer.model_type", "decode.max_len_a"):
        assert key in result.stdout.decode()


def test_ensemble_and_search_options(run_dir, tmp_path):
    from seq2seq.config import validate

    raw = toy_config("copy", FAMILIES["luong-concat"], max_steps=3, seed=4).to_dict()
    raw["tokenizer"]["from_run"] = str(run_dir)                    # members must share the vocabulary
    member = tmp_path / "member"
    train(validate(raw), member, verbose=False)
    text = "a b c\n\nd e f a\n"
    both = run("translate", str(run_dir), str(member), "--beam-size", "3", "--no-repeat-ngram", "2",
               "--min-len", "1", "--max-len", "5", "--beta", "0.2", "--jsonl", stdin=text)
    assert both.returncode == 0, both.stderr.decode()
    records = [json.loads(line) for line in both.stdout.decode().splitlines()]
    assert len(records) == 3 and records[1]["n_best"][0]["text"] == ""
    for r in (records[0], records[2]):
        tokens = r["n_best"][0]["tokens"]
        assert 1 <= len([t for t in tokens if t != "</s>"]) and len(tokens) <= 5
    data = run_dir / "data"
    ev = run("evaluate", str(run_dir), str(member), "--src", str(data / "test.src"), "--ref", str(data / "test.tgt"),
             "--json")
    assert ev.returncode == 0 and json.loads(ev.stdout)["run_dir"] == [str(run_dir), str(member)]
    # a run with another vocabulary cannot join
    write_corpus(tmp_path / "other")
    cfg = tmp_path / "other.yaml"
    cfg.write_text(CONFIG.format(root=tmp_path / "other"))
    assert run("train", str(cfg), "--run-dir", str(tmp_path / "other_run"), "--quiet").returncode == 0
    assert_one_line_error(run("translate", str(run_dir), str(tmp_path / "other_run"), stdin=text),
                          "vocabularies differ")
    assert_one_line_error(run("translate", str(run_dir), "--no-repeat-ngram", "-1", stdin=text), "--no-repeat-ngram")


def test_threads_option(run_dir):
    text = "a b c\nd e\n"
    one = run("translate", str(run_dir), "--threads", "1", stdin=text)
    default = run("translate", str(run_dir), stdin=text)
    assert one.returncode == 0 and one.stdout == default.stdout
    assert_one_line_error(run("translate", str(run_dir), "--threads", "0", stdin=text), "--threads 0")


def test_alignments_file_matches_the_python_api(run_dir, tmp_path):
    import numpy as np

    from seq2seq import load

    text = "a b c\n\nd e f a\n"
    out = tmp_path / "align.jsonl"
    result = run("translate", str(run_dir), "--alignments", str(out), "--beam-size", "3", stdin=text)
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and len(result.stdout.decode().splitlines()) == 3
    api = load(run_dir).translate(text.splitlines(), beam_size=3)
    for record, t in zip(records, api):
        assert record["tgt_tokens"] == t.tokens and record["src_tokens"] == t.src_tokens
        matrix = np.array(record["attention"]).reshape(len(t.tokens), len(t.src_tokens))
        np.testing.assert_allclose(matrix, t.attention, atol=1e-6)
        if t.tokens:
            np.testing.assert_allclose(matrix.sum(1), 1.0, atol=1e-5)
            assert record["alignment"] == matrix.argmax(1).tolist()


def test_attention_heatmaps_have_one_row_per_output_and_one_column_per_source_token(run_dir, tmp_path):
    import xml.etree.ElementTree as ET

    import numpy as np

    from seq2seq import load

    out = tmp_path / "maps"
    result = run("attention", str(run_dir), "a b c", "d e f a", "--format", "png", "svg", "-o", str(out),
                 "--beam-size", "2")
    assert result.returncode == 0, result.stderr.decode()
    assert len(result.stdout.decode().splitlines()) == 4                      # 2 sentences x 2 formats
    api = load(run_dir).translate(["a b c", "d e f a"], beam_size=2)
    for number, t in enumerate(api, start=1):
        stem = out / f"attention-{number:03d}"
        assert stem.with_suffix(".png").stat().st_size > 0
        saved = json.loads(stem.with_suffix(".json").read_text())
        matrix = np.array(saved["attention"])
        assert matrix.shape == (len(t.tokens), len(t.src_tokens))
        np.testing.assert_allclose(matrix, t.attention, atol=1e-6)
        texts = [el.text for el in ET.parse(stem.with_suffix(".svg")).iter() if el.tag.endswith("text") and el.text]
        for token in t.tokens + t.src_tokens:                              # every label is in the SVG as text
            assert token in texts
    assert_one_line_error(run("attention", str(run_dir)), "--input")


def test_evaluate_mirrors_train_the_runs_test_set_a_tsv_or_a_prefix(run_dir, tmp_path, capsys):
    from seq2seq.cli import main

    def scores(*args):
        capsys.readouterr()
        assert main(["evaluate", str(run_dir), "--json", "--threads", "1", *args]) == 0
        out = json.loads(capsys.readouterr().out)
        return out["bleu"], out["chrf"], out["sentences"]

    data = run_dir / "data"
    pairs = list(zip((data / "test.src").read_text().splitlines(), (data / "test.tgt").read_text().splitlines()))
    (tmp_path / "test.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in pairs))
    explicit = scores("--src", str(data / "test.src"), "--ref", str(data / "test.tgt"))
    assert explicit[2] == len(pairs)
    assert scores() == explicit                                           # the run's own test split
    assert scores("--test", str(tmp_path / "test.tsv")) == explicit
    assert scores("--src", str(tmp_path / "test.tsv")) == explicit       # a TSV alone holds both sides
    assert main(["evaluate", str(run_dir), "--src", str(data / "test.src")]) == 2
    assert "--src and --ref go together" in capsys.readouterr().err


def test_evaluate_reads_the_configured_test_prefix_and_says_when_there_is_none(tmp_path, capsys):
    from seq2seq.cli import main

    write_corpus(tmp_path / "corpus")
    (tmp_path / "cfg.yaml").write_text(CONFIG.format(root=tmp_path / "corpus"))
    assert main(["train", str(tmp_path / "cfg.yaml"), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 0
    assert main(["evaluate", str(tmp_path / "run")]) == 2
    assert "has no test set (data.test is not set)" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "run"), "--test", str(tmp_path / "corpus" / "valid"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sentences"] == 2


@pytest.mark.parametrize("command", [["translate", "r"], ["evaluate", "r"], ["attention", "r", "x"], ["report", "r"],
                                     ["serve", "r"]])
def test_every_command_that_loads_a_model_defaults_to_the_same_device(command):
    from seq2seq.cli import build_parser

    assert build_parser().parse_args(command).device == "auto"
