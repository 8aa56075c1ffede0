"""Save → load reproduces outputs exactly; an interrupted and resumed run equals an uninterrupted one."""

import json

import pytest
import torch

from seq2seq import load
from seq2seq.checkpoint import BEST, LAST, METRICS, TRAIN_STATE, load_weights, read_metrics
from seq2seq.train import train
from helpers import FAMILIES, toy_config


def small(**train_kw):
    return toy_config("copy", FAMILIES["luong-concat"], "gru", train_size=400, epochs=5, valid_every=10,
                      plateau_patience=0, **train_kw)


def test_save_load_reproduces_outputs_exactly(tmp_path):
    config = small(max_steps=20)
    train(config, tmp_path, verbose=False)
    first = load(tmp_path, which="last")
    second = load(tmp_path, which="last")
    texts = ["a b c", "f e d c b a", "b", ""]
    a, b = first.translate(texts), second.translate(texts)
    for x, y in zip(a, b):
        assert x.text == y.text and x.score == y.score and x.tokens == y.tokens
        if x.attention is not None:
            assert (x.attention == y.attention).all()
    # the weights on disk are exactly the in-memory ones that produced training's last state
    state = torch.load(tmp_path / TRAIN_STATE, weights_only=True)
    on_disk = load_weights(tmp_path / LAST)
    for k, v in state["model"].items():
        assert torch.equal(on_disk[k], v), k
    assert (tmp_path / BEST).is_file()


def test_resume_equals_uninterrupted_run(tmp_path):
    full_losses, part_losses = [], []
    train(small(max_steps=45), tmp_path / "full", verbose=False, on_step=lambda s, l: full_losses.append((s, l)))
    # interrupted at a step that is not a validation step, then resumed to the same end
    train(small(max_steps=17), tmp_path / "part", verbose=False, on_step=lambda s, l: part_losses.append((s, l)))
    train(small(max_steps=45), tmp_path / "part", resume=True, verbose=False,
          on_step=lambda s, l: part_losses.append((s, l)))
    assert part_losses == full_losses
    full = load_weights(tmp_path / "full" / LAST)
    part = load_weights(tmp_path / "part" / LAST)
    assert full.keys() == part.keys()
    for k in full:
        assert torch.equal(full[k], part[k]), k
    # the metrics log has each training step's validation once, in order
    steps = [m["step"] for m in read_metrics(tmp_path / "part") if m["event"] == "valid"]
    assert steps == sorted(set(steps))
    full_valid = [(m["step"], m["loss"]) for m in read_metrics(tmp_path / "full") if m["event"] == "valid"]
    part_valid = [(m["step"], m["loss"]) for m in read_metrics(tmp_path / "part") if m["event"] == "valid"]
    assert [v for v in part_valid if v[0] != 17] == full_valid


def test_training_twice_into_the_same_run_dir_is_refused(tmp_path):
    from seq2seq.errors import UserError

    train(small(max_steps=2), tmp_path, verbose=False)
    with pytest.raises(UserError, match="--resume"):
        train(small(max_steps=2), tmp_path, verbose=False)


def test_train_state_holds_no_pickled_objects(tmp_path):
    train(small(max_steps=3), tmp_path, verbose=False)
    state = torch.load(tmp_path / TRAIN_STATE, weights_only=True)   # would raise on arbitrary objects
    assert state["step"] == 3
    for line in (tmp_path / METRICS).read_text().splitlines():
        json.loads(line)


def test_stop_at_ends_training_at_the_first_validation_reaching_the_target(tmp_path):
    from helpers import toy_config
    from seq2seq.checkpoint import read_metrics
    from seq2seq.train import train

    config = toy_config("copy", max_steps=2000, valid_every=25, stop_at=50.0)
    result = train(config, tmp_path, verbose=False)
    valid = [e for e in read_metrics(tmp_path) if e["event"] == "valid"]
    assert result.steps < 2000 and "stop_at" in result.stopped
    assert valid[-1]["accuracy"] >= 50.0 and all(e["accuracy"] < 50.0 for e in valid[:-1])


def test_every_validation_writes_heatmaps_of_the_same_dev_sentences(tmp_path):
    from helpers import FAMILIES, toy_config
    from seq2seq.train import train

    config = toy_config("reverse", FAMILIES["luong-general"], max_steps=60, valid_every=30, attention_plots=2)
    train(config, tmp_path, verbose=False)
    for sentence in ("val01", "val02"):
        folder = tmp_path / "attention" / sentence
        assert sorted(p.name for p in folder.glob("*.png")) == ["step0000030.png", "step0000060.png"]
        saved = json.loads((folder / "step0000060.json").read_text())
        assert len(saved["attention"]) == len(saved["tgt_tokens"])
        assert all(len(row) == len(saved["src_tokens"]) for row in saved["attention"])
    assert not (tmp_path / "attention" / "val03").exists()
