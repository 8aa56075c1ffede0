"""The training rules, each checked through `seq2seq.train.train` and the run's metrics.jsonl against a value
computed here: the label-smoothed loss, the warm-up / inverse-sqrt learning rate, plateau halving and early stopping.
Tiny models and a handful of updates: each run takes a second or two."""

from __future__ import annotations

import math
import os
import signal

import pytest
import torch

from seq2seq.checkpoint import read_metrics
from seq2seq.inference.loading import load_run
from seq2seq.data.batching import make_batch
from seq2seq.data.text.lines import read_lines
from seq2seq.training.train import train
from seq2seq.training.state import SavedTraining
from helpers import FAMILIES, random_pairs, tiny_model, toy_config


def tiny_config(task: str = "copy", train_size: int = 64, valid_size: int = 8, **train_kw):
    kw = dict(batch_sentences=16, attention_plots=0, keep_checkpoints=0, valid_every=1000, log_every=1)
    kw.update(train_kw)
    config = toy_config(task, FAMILIES["bahdanau"], train_size=train_size, **kw)
    config.model.embedding_size = 8
    config.model.encoder.hidden_size = 8
    config.model.decoder.hidden_size = 16
    config.data.synthetic.valid_size = valid_size
    return config


def events(run_dir, kind: str) -> list[dict]:
    return [e for e in read_metrics(run_dir) if e["event"] == kind]


def smoothed_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, epsilon: float) -> float:
    """Sum over positions of -sum_v q_v log p_v with q = (1 - epsilon) one-hot(target) + epsilon / V."""
    logp = torch.log_softmax(logits.double(), dim=-1)           # (n, V)
    vocab = logits.size(-1)
    total = 0.0
    for row, target in zip(logp, targets.tolist()):
        q = torch.full((vocab,), epsilon / vocab, dtype=torch.float64)
        q[target] += 1 - epsilon
        total += float(-(q * row).sum())
    return total


# ----------------------------------------------------------------------------------------------------------------
# Label smoothing

def test_label_smoothed_loss_of_the_model_equals_the_hand_computed_one():
    model = tiny_model(FAMILIES["luong-general"], seed=3)
    src, tgt = random_pairs(5, seed=4)
    batch = make_batch(src, tgt)
    with torch.no_grad():
        logits, _ = model.teacher_forced(batch)
        real = batch.tgt_mask
        for epsilon in (0.0, 0.1, 0.3):
            want = smoothed_cross_entropy(logits[real], batch.tgt_out[real], epsilon)
            got = float(model(batch, epsilon))
            assert got == pytest.approx(want, rel=1e-5), epsilon
        plain, smoothed = float(model(batch, 0.0)), float(model(batch, 0.1))
    assert abs(plain - smoothed) > 20 * 1e-5 * plain  # 20x the tolerance: a loss ignoring smoothing cannot pass


def test_training_uses_train_label_smoothing(tmp_path):
    """One update on a training set that is exactly one batch, with an lr so small the weights barely move: the loss
    training reports equals the smoothed cross-entropy of those weights on that batch, computed here."""
    config = tiny_config(train_size=16, batch_sentences=16, max_steps=1, lr=1e-9, lr_schedule="constant",
                         label_smoothing=0.1)
    losses: list[float] = []
    train(config, tmp_path, verbose=False, on_step=lambda step, loss: losses.append(loss))
    assert len(losses) == 1
    run = load_run(tmp_path, "last")
    model, (src_tok, tgt_tok) = run.model, run.vocab
    src = [src_tok.encode(line) for line in read_lines(tmp_path / "data" / "train.src")]
    tgt = [tgt_tok.encode(line) for line in read_lines(tmp_path / "data" / "train.tgt")]
    assert len(src) == 16
    batch = make_batch(src, tgt)
    with torch.no_grad():
        logits, _ = model.teacher_forced(batch)
    real = batch.tgt_mask
    smoothed = smoothed_cross_entropy(logits[real], batch.tgt_out[real], 0.1) / batch.n_tokens
    plain = smoothed_cross_entropy(logits[real], batch.tgt_out[real], 0.0) / batch.n_tokens
    assert abs(smoothed - plain) > 2e-3              # 20x the tolerance below: the two cannot be confused
    assert losses[0] == pytest.approx(smoothed, abs=1e-4)


# ----------------------------------------------------------------------------------------------------------------
# Learning-rate schedules

def test_warmup_then_inverse_sqrt_learning_rate(tmp_path):
    lr, w = 2e-3, 4
    config = tiny_config(max_steps=12, lr=lr, lr_schedule="warmup", warmup_steps=w)
    train(config, tmp_path, verbose=False)
    logged = {e["step"]: e["lr"] for e in events(tmp_path, "train")}
    assert sorted(logged) == list(range(1, 13))
    for s, value in logged.items():
        assert value == pytest.approx(lr * min((s + 1) / w, math.sqrt(w / (s + 1))), rel=1e-9), s
    # it rises to the peak at the end of warm-up, then falls
    assert logged[1] < logged[2] < logged[3] == pytest.approx(lr) and logged[3] > logged[4] > logged[12]


def test_budget_schedule_falls_in_a_straight_line_to_min_lr_over_epochs_or_max_steps(tmp_path):
    lr, floor = 2e-3, 2e-4
    train(tiny_config(max_steps=12, epochs=10**4, lr=lr, min_lr=floor, lr_schedule="budget"), tmp_path / "steps",
          verbose=False)
    by_steps = {e["step"]: e["lr"] for e in events(tmp_path / "steps", "train")}
    assert sorted(by_steps) == list(range(1, 13))
    for s, value in by_steps.items():     # update s used the rate after s - 1 of the 12 updates
        assert value == pytest.approx(lr - (lr - floor) * (s - 1) / 12, rel=1e-9), s
    # epochs alone are a budget too: 2 epochs of 64 pairs in batches of 16 are 8 updates
    train(tiny_config(epochs=2, lr=lr, min_lr=floor, lr_schedule="budget"), tmp_path / "epochs", verbose=False)
    by_epochs = {e["step"]: e["lr"] for e in events(tmp_path / "epochs", "train")}
    assert sorted(by_epochs) == list(range(1, 9))
    for s, value in by_epochs.items():
        assert value == pytest.approx(lr - (lr - floor) * (s - 1) / 8, rel=1e-9), s


def test_budget_schedule_resumes_where_it_stood(tmp_path):
    config = tiny_config(max_steps=20, epochs=10**4, lr_schedule="budget", save_minutes=None)
    train(config, tmp_path / "full", verbose=False)

    def interrupt_at_7(step: int, loss: float) -> None:
        if step == 7:
            os.kill(os.getpid(), signal.SIGINT)                             # as Ctrl-C: saves, then returns

    train(config, tmp_path / "part", verbose=False, on_step=interrupt_at_7)
    assert SavedTraining.load(tmp_path / "part" / "train_state.pt").step == 7
    train(config, tmp_path / "part", resume=True, verbose=False)
    rates = [[(e["step"], e["lr"]) for e in events(tmp_path / run, "train")] for run in ("full", "part")]
    assert rates[0] == rates[1]
    full, part = (load_run(tmp_path / run, which="last").model.state_dict() for run in ("full", "part"))
    assert all(torch.equal(full[k], part[k]) for k in full)


@pytest.mark.parametrize("patience", [0, 1, 2])
def test_plateau_schedule_halves_the_lr_after_patience_bad_validations(tmp_path, patience):
    """An untrained model's exact-match accuracy stays 0: the first validation sets the best value and every later
    one is a bad one. The lr halves once more than `plateau_patience` bad validations have accumulated since the
    last improvement or halving."""
    lr = 1e-3
    config = tiny_config(max_steps=8, valid_every=1, lr=lr, lr_schedule="plateau", plateau_patience=patience,
                         plateau_factor=0.5, min_lr=0.0, valid_metric="accuracy", patience=None)
    train(config, tmp_path, verbose=False)
    valid = events(tmp_path, "valid")
    assert [e["step"] for e in valid] == list(range(1, 9))
    assert all(e["accuracy"] == 0.0 for e in valid)
    expected, current, bad = [], lr, -1              # -1: the first validation improves on nothing
    for _ in valid:
        bad += 1
        if bad > patience:
            current, bad = current / 2, 0
        expected.append(current)
    assert [e["lr"] for e in valid] == pytest.approx(expected, rel=1e-9)
    halvings = {0: 7, 1: 3, 2: 2}[patience]           # counted by hand: 7 bad validations after the first
    assert valid[-1]["lr"] == pytest.approx(lr / 2**halvings, rel=1e-9)
    # updates between validations use the lr the last validation set
    train_lr = {e["step"]: e["lr"] for e in events(tmp_path, "train")}
    for before, after in zip(valid, valid[1:]):
        assert train_lr[after["step"]] == pytest.approx(before["lr"], rel=1e-9)


# ----------------------------------------------------------------------------------------------------------------
# Early stopping

@pytest.mark.parametrize("patience", [1, 3])
def test_training_stops_after_patience_validations_without_improvement(tmp_path, patience):
    config = tiny_config(max_steps=40, valid_every=1, lr_schedule="constant", valid_metric="accuracy",
                         patience=patience)
    result = train(config, tmp_path, verbose=False)
    valid = events(tmp_path, "valid")
    assert all(e["accuracy"] == 0.0 for e in valid)   # the first sets the best; none improves on it
    assert len(valid) == patience + 1 and result.steps == patience + 1
    [end] = events(tmp_path, "end")
    assert end["step"] == patience + 1 and "early stopping" in end["reason"]
    assert f"no improvement in {patience} validations" in end["reason"] and result.stopped == end["reason"]


def test_without_patience_training_runs_to_max_steps(tmp_path):
    config = tiny_config(max_steps=6, valid_every=1, lr_schedule="constant", valid_metric="accuracy", patience=None)
    result = train(config, tmp_path, verbose=False)
    [end] = events(tmp_path, "end")
    assert result.steps == 6 and len(events(tmp_path, "valid")) == 6
    assert "early stopping" not in end["reason"] and "6 steps" in end["reason"]


# ----------------------------------------------------------------------------------------------------------------
# A time budget

def test_max_minutes_stops_with_a_last_validation_and_resume_counts_the_earlier_sessions(tmp_path):
    config = tiny_config(max_minutes=0.02, epochs=10**4, lr_schedule="constant", patience=None)   # 1.2 s
    first = train(config, tmp_path, verbose=False)
    [end] = events(tmp_path, "end")
    assert "train.max_minutes=0.02" in end["reason"] and first.steps > 0
    assert events(tmp_path, "valid")[-1]["step"] == first.steps             # the last validation, after the budget
    spent = SavedTraining.load(tmp_path / "train_state.pt").train_seconds
    assert spent >= 1.2

    config.train.max_minutes = 0.04                                          # 2.4 s in all: about 1.2 s more
    second = train(config, tmp_path, resume=True, verbose=False)
    total = SavedTraining.load(tmp_path / "train_state.pt").train_seconds
    assert second.steps > first.steps and total >= 2.4
    this_session = [e for e in read_metrics(tmp_path) if e["event"] == "end"][-1]["time"]
    assert this_session < 2.4 - 0.5 * spent                                  # the earlier session's time counted
    third = train(config, tmp_path, resume=True, verbose=False)             # the budget is spent: no update
    assert third.steps == second.steps
    assert "train.max_minutes=0.04" in [e for e in read_metrics(tmp_path) if e["event"] == "end"][-1]["reason"]
