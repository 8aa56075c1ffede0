"""`seq2seq vocab`: a run's vocabulary as its model sees it (size, id and piece, specials marked), and the pieces and
ids a sentence becomes on each text side, with what falls outside the vocabulary marked."""

import json
import re
from pathlib import Path

import pytest

from seq2seq.checkpoint import tokenizers_of
from seq2seq.cli import main
from seq2seq.config import validate
from seq2seq.data.text.tokenizers import UNK
from seq2seq.training.train import train
from helpers import toy_config


def tiny_run(path: Path, tokenizer: dict, task: str = "reverse") -> Path:
    raw = toy_config(task, train_size=200, max_steps=1).to_dict()
    raw["tokenizer"] = tokenizer
    train(validate(raw), path, verbose=False)
    return path


@pytest.fixture(scope="module")
def subwords(tmp_path_factory) -> Path:
    """Separate source and target sentencepiece models."""
    return tiny_run(tmp_path_factory.mktemp("sp"), {"type": "sentencepiece", "model_type": "bpe", "vocab_size": 14,
                                                    "joint": False})


@pytest.fixture(scope="module")
def words(tmp_path_factory) -> Path:
    """One joint whitespace-word vocabulary."""
    return tiny_run(tmp_path_factory.mktemp("words"), {"type": "whitespace", "joint": True})


def vocab(capsys, *args: str) -> list[str]:
    assert main(["vocab", *args]) == 0
    return capsys.readouterr().out.splitlines()


def entries(lines: list[str]) -> list[tuple[int, str, bool]]:
    """(id, piece, marked special) of each `ID  PIECE [(special)]` line."""
    out = []
    for line in lines:
        cells = line.split()
        if cells and cells[0].isdigit():
            out.append((int(cells[0]), cells[1], cells[-1] == "(special)"))
    return out


def segmentation(lines: list[str], label: str) -> tuple[list[str], list[int]]:
    """The pieces and ids printed under the side `label` (a piece may hold one space: `" "`)."""
    at = next(i for i, line in enumerate(lines) if line.startswith(label + ":"))
    pieces, ids = (re.split(r"\s{2,}", lines[at + row].strip()) for row in (1, 2))   # cells: 2+ spaces apart
    assert pieces[0] == "piece" and ids[0] == "id"
    return pieces[1:], [int(i) for i in ids[1:]]


def test_each_side_lists_every_id_with_its_piece_and_the_specials_marked(subwords, capsys):
    src, tgt = tokenizers_of(subwords)
    lines = vocab(capsys, str(subwords), "--side", "tgt")
    assert lines[0] == f"target: {tgt.vocab_size} pieces (sentencepiece subwords)"
    ids = list(range(tgt.vocab_size))
    assert entries(lines) == [(i, p, i <= 3) for i, p in zip(ids, tgt.pieces(ids))]
    both = vocab(capsys, str(subwords))
    assert [line for line in both if line.endswith("(sentencepiece subwords)")] == [
        f"source: {src.vocab_size} pieces (sentencepiece subwords)", lines[0]]
    assert len(entries(both)) == src.vocab_size + tgt.vocab_size


def test_limit_lists_the_first_entries_and_counts_the_rest(words, capsys):
    tok = tokenizers_of(words)[0]
    lines = vocab(capsys, str(words), "--limit", "5")
    assert lines[0] == f"source and target (joint): {tok.vocab_size} pieces (whitespace-separated words)"
    assert [e[:2] for e in entries(lines)] == list(zip(range(5), tok.pieces(range(5))))
    assert lines[-1] == f"... {tok.vocab_size - 5} more"
    assert vocab(capsys, str(words), "--limit", "0") == [lines[0], f"... {tok.vocab_size} more"]


def test_segment_prints_the_tokenizers_pieces_and_ids_on_each_side(subwords, capsys):
    text = "a b c d e f"
    lines = vocab(capsys, str(subwords), "--segment", text)
    assert lines[0] == json.dumps(text)
    for label, tok in zip(("source", "target"), tokenizers_of(subwords)):
        ids = tok.encode(text)
        assert segmentation(lines, label) == (tok.pieces(ids), ids)
        assert UNK not in ids


def test_symbols_outside_the_vocabulary_are_marked(words, capsys):
    tok = tokenizers_of(words)[0]
    text = "a zz b qq a"
    ids = tok.encode(text)
    assert ids.count(UNK) == 2                        # the toy alphabet is a-f
    lines = vocab(capsys, str(words), "--segment", text, "--segment", "a")
    assert lines[1] == "source and target (joint): 5 pieces, 2 unknown (<unk>!)"
    pieces, printed_ids = segmentation(lines, "source and target (joint)")
    assert printed_ids == ids
    assert pieces == [p + "!" if i == UNK else p for p, i in zip(tok.pieces(ids), ids)]
    assert lines[4] == "  not in the vocabulary: zz qq"
    assert lines[5:] == ["", '"a"', "source and target (joint): 1 piece", "  piece  a",
                         f"  id     {tok.encode('a')[0]}"]


def test_a_space_piece_is_shown_quoted(tmp_path, capsys):
    run = tiny_run(tmp_path, {"type": "char", "joint": True})
    tok = tokenizers_of(run)[0]
    space = tok.encode(" ")[0]
    assert [str(space), '" "'] in [line.split(None, 1) for line in vocab(capsys, str(run))]
    lines = vocab(capsys, str(run), "--segment", "a b")
    assert segmentation(lines, "source and target (joint)") == (["a", '" "', "b"], tok.encode("a b"))


@pytest.mark.parametrize("task, text_side, frames_side", [("speech_to_text", "tgt", "src"),
                                                          ("text_to_speech", "src", "tgt")])
def test_a_frames_run_shows_its_one_text_side_and_refuses_the_other(tmp_path, capsys, task, text_side, frames_side):
    raw = {"task": task, "data": {"synthetic": {"train_size": 50, "valid_size": 10, "symbols": 6, "max_len": 4}},
           "tokenizer": {"type": "whitespace"},
           "model": {"embedding_size": 8, "encoder": {"hidden_size": 8}, "decoder": {"hidden_size": 8}},
           "train": {"max_steps": 1, "batch_sentences": 8, "attention_plots": 0}}
    train(validate(raw), tmp_path, verbose=False)
    tok = tokenizers_of(tmp_path)[0]
    name = {"src": "source", "tgt": "target"}[text_side]
    lines = vocab(capsys, str(tmp_path))
    assert lines[0] == f"{name}: {tok.vocab_size} pieces (whitespace-separated words)"
    assert len(entries(lines)) == tok.vocab_size
    assert vocab(capsys, str(tmp_path), "--side", text_side) == lines
    assert main(["vocab", str(tmp_path), "--side", frames_side]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"is feature frames, not text (its text side: --side {text_side})" in err[0]


def test_user_errors_are_one_line(tmp_path, words, capsys):
    assert main(["vocab", str(tmp_path / "missing")]) == 2
    assert main(["vocab", str(words), "--limit", "-1"]) == 2
    assert main(["vocab", str(words), "--limit", "3", "--segment", "a"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"seq2seq: error: run directory not found: {tmp_path / 'missing'}",
                   "seq2seq: error: --limit -1: must be >= 0",
                   "seq2seq: error: --limit applies to the vocabulary listing, not to --segment"]
