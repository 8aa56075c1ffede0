"""`task: language_model` and shallow fusion through the front doors: an LM learns a toy language, save → load
scores exactly, `evaluate` prints perplexity, and `decode.lm` refuses a run of another task or another vocabulary
in one line."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from seq2seq import load
from seq2seq.cli import main
from seq2seq.config import validate
from seq2seq.data.audio.wav import write_wav
from seq2seq.tasks.language_model import mean_loss
from seq2seq.training.train import train

WORDS = ["one", "two", "three", "four", "five"]


def counting_text(n: int, seed: int) -> list[str]:
    """A toy language: runs of consecutive numbers ("two three four"), so the next word is predictable."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        start, length = rng.randrange(5), rng.randrange(1, 5)
        lines.append(" ".join(WORDS[(start + k) % 5] for k in range(length)))
    return lines


def lm_config(folder, **extra) -> dict:
    (folder / "train.txt").write_text("\n".join(counting_text(600, 1)) + "\n")
    (folder / "test.txt").write_text("\n".join(counting_text(100, 2)) + "\n")
    return {"task": "language_model",
            "data": {"root": str(folder), "texts": ["train.txt"], "valid_split": 60, "test": "test.txt"},
            "tokenizer": {"type": "char"},
            "model": {"embedding_size": 16, "hidden_size": 48, "layers": 1, "dropout": 0.0},
            "train": {"max_steps": 150, "batch_sentences": 32, "lr": 1e-2, "valid_every": 50, "patience": None,
                      "threads": 1},
            **extra}


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    train(validate(lm_config(folder)), folder / "run")
    return folder / "run"


def test_a_language_model_learns_a_toy_language(lm_run):
    scorer = load(lm_run)
    # 26 letters, space and EOS spread evenly would be ~28; the counting language is far more predictable
    loss, tokens = mean_loss(scorer.model, [scorer.vocab.encode(s) for s in counting_text(100, 3)], 32)
    assert tokens > 0 and torch.exp(torch.tensor(loss)) < 2.2
    likely, unlikely = scorer.score(["two three four", "four two three"])
    assert likely.log_prob > unlikely.log_prob + 2


def test_save_load_scores_exactly(lm_run, tmp_path):
    first, again = load(lm_run), load(lm_run)
    texts = ["one two", "five one two three", "three"]
    assert [s.log_prob for s in first.score(texts)] == [s.log_prob for s in again.score(texts)]
    assert first.score(["one two"])[0].log_prob == first.score(["one two"])[0].log_prob


def test_evaluate_prints_perplexity(lm_run, capsys):
    assert main(["evaluate", str(lm_run), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["sentences"] == 100 and 1 < scores["ppl"] < 2.2


@pytest.fixture(scope="module")
def recogniser(tmp_path_factory):
    """A tiny speech_to_text run with CTC on a manifest of tone clips transcribed as number words."""
    folder = tmp_path_factory.mktemp("asr")
    rows = []
    for i, text in enumerate(counting_text(40, 4)):
        pitches = [300 + 200 * WORDS.index(w) for w in text.split()]
        samples = np.concatenate([0.3 * np.sin(2 * np.pi * f * np.arange(800) / 8000) for f in pitches])
        write_wav(folder / f"{i}.wav", samples.astype(np.float32), 8000)
        rows.append(f"{i}.wav\t{text}\n")
    (folder / "clips.tsv").write_text("".join(rows))
    config = validate({"task": "speech_to_text",
                       "data": {"root": str(folder), "train": "clips.tsv", "valid_split": 5, "test": "clips.tsv",
                                "features": {"n_mels": 16}},
                       "tokenizer": {"type": "char"},
                       "model": {"embedding_size": 16, "ctc_weight": 0.3, "frontend": {"stack": 4},
                                 "encoder": {"hidden_size": 16}, "decoder": {"hidden_size": 24}},
                       "train": {"max_steps": 10, "batch_sentences": 16, "valid_every": 10, "threads": 1,
                                 "attention_plots": 0},
                       "decode": {"max_len_a": 1.0, "max_len_b": 5}})
    train(config, folder / "run")
    return folder / "run"


def test_fusion_with_the_recognisers_own_lm(recogniser, tmp_path, capsys):
    """An LM trained on the recogniser's tokenizer fuses; with weight 0 it changes nothing."""
    train(validate(lm_config(tmp_path, tokenizer={"from_run": str(recogniser)})), tmp_path / "lm")
    assert main(["evaluate", str(recogniser), "--json", "--beam-size", "3"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(["evaluate", str(recogniser), "--json", "--beam-size", "3", "--lm", str(tmp_path / "lm"),
                 "--lm-weight", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["cer"] == plain["cer"]
    assert main(["evaluate", str(recogniser), "--json", "--beam-size", "3", "--lm", str(tmp_path / "lm"),
                 "--lm-weight", "0.5", "--ctc-weight", "0.3"]) == 0
    assert "cer" in json.loads(capsys.readouterr().out)


def test_decode_lm_of_another_task_or_vocabulary_is_one_clear_line(recogniser, lm_run, capsys):
    assert main(["evaluate", str(recogniser), "--lm", str(recogniser), "--lm-weight", "0.5"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a speech_to_text run: shallow fusion needs a language_model run" in err[0]
    assert main(["evaluate", str(recogniser), "--lm", str(lm_run), "--lm-weight", "0.5"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "vocabulary" in err[0] and "tokenizer.from_run" in err[0]
    assert main(["evaluate", str(recogniser), "--lm-weight", "0.5"]) != 0
    assert "needs a language model" in capsys.readouterr().err


def test_serve_scores_texts_and_report_and_runs_list_the_run(lm_run, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from seq2seq.serving.app import create_app

    with TestClient(create_app([str(lm_run)])) as client:
        reply = client.post("/score", json={"texts": ["two three four", "four two three"]})
        assert reply.status_code == 200
        likely, unlikely = reply.json()["scores"]
        assert likely["log_prob"] > unlikely["log_prob"] and likely["tokens"][:3] == ["t", "w", "o"]
        assert client.get("/info").json()["task"] == "language_model"
        assert client.post("/score", json={"texts": ["x" * 5000]}).status_code == 422
    assert main(["report", str(lm_run), "-o", str(tmp_path / "r.html")]) == 0
    assert "language model, 1 × lstm 48" in (tmp_path / "r.html").read_text()
    assert main(["runs", str(lm_run.parent)]) == 0
    assert "language_model" in capsys.readouterr().out
