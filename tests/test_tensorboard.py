"""train.tensorboard: the curves of metrics.jsonl as TensorBoard event files, also across a resume."""

import pytest

from seq2seq.checkpoint import read_metrics
from seq2seq.training.train import train
from helpers import toy_config

pytest.importorskip("tensorboard", reason="train.tensorboard needs the tensorboard package (in the test extra)")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def scalars(run_dir, tag):
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return [(e.step, round(e.value, 4)) for e in events.Scalars(tag)]


def logged(run_dir, kind, name):
    return [(m["step"], round(m[name], 4)) for m in read_metrics(run_dir) if m["event"] == kind]


def test_tensorboard_holds_the_logged_curves_once_per_step_across_a_resume(tmp_path):
    config = lambda steps: toy_config("copy", train_size=300, max_steps=steps, log_every=5, valid_every=10,
                                      tensorboard=True)
    train(config(17), tmp_path, verbose=False)       # ends between validations: the resume re-logs 17..30
    train(config(30), tmp_path, resume=True, verbose=False)
    assert scalars(tmp_path, "train/loss") == logged(tmp_path, "train", "loss")
    assert [s for s, _ in scalars(tmp_path, "train/loss")] == [5, 10, 15, 20, 25, 30]
    assert scalars(tmp_path, "valid/accuracy") == logged(tmp_path, "valid", "accuracy")
