"""Each metric knows its direction; early stopping, the plateau schedule and train.stop_at follow it."""

import pytest
import torch
from helpers import toy_config

from seq2seq.errors import UserError
from seq2seq.metrics import METRICS, get_metric
from seq2seq.tasks import TranslationTask, get_task
from seq2seq.training.optim import make_scheduler


@pytest.mark.parametrize("name,higher", [("bleu", True), ("chrf", True), ("accuracy", True), ("wer", False),
                                         ("cer", False), ("loss", False), ("ppl", False),
                                         ("l1", False), ("free_l1", False), ("length_match", True),
                                         ("stop_error", False)])
def test_direction(name, higher):
    metric = get_metric(name)
    good, bad = (80.0, 20.0) if higher else (20.0, 80.0)
    assert metric.higher_is_better is higher and metric.mode == ("max" if higher else "min")
    assert metric.better(good, bad) and not metric.better(bad, good) and not metric.better(good, good)
    assert metric.better(bad, None)                                   # the first value is the best so far
    assert metric.reached(good, bad) and metric.reached(good, good) and not metric.reached(bad, good)


def test_unknown_metric_is_a_user_error():
    with pytest.raises(UserError, match="unknown metric 'bleu4'.*known: bleu, chrf"):
        get_metric("bleu4")


def test_every_task_declares_known_metrics_once():
    from seq2seq.config import CONFIGS

    for task, config_class in CONFIGS.items():
        assert config_class.METRICS and set(config_class.METRICS) <= set(METRICS), task
        assert config_class.PRIMARY_METRIC in config_class.METRICS, task


def test_a_metric_the_task_does_not_report_is_named_with_the_allowed_ones():
    from seq2seq.config import validate

    raw = toy_config("copy").to_dict()
    raw["train"]["valid_metric"] = "cer"
    with pytest.raises(UserError, match=r"valid_metric='cer'.*allowed: loss, ppl, bleu, chrf, accuracy, wer"):
        validate(raw)
    raw["train"]["valid_metric"] = None
    assert validate(raw).train.valid_metric == "bleu"            # the task's primary metric


@pytest.mark.parametrize("name,mode", [("loss", "min"), ("bleu", "max"), ("accuracy", "max")])
def test_plateau_schedule_follows_the_metric_direction(name, mode):
    config = toy_config("copy", valid_metric=name, lr_schedule="plateau")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    task = get_task(config)
    assert make_scheduler(config.train, optimizer, task.primary_metric).mode == mode


def test_the_task_names_the_primary_metric_and_refuses_one_it_does_not_report():
    config = toy_config("copy", valid_metric="loss")
    task = get_task(config)
    assert isinstance(task, TranslationTask) and task.primary_metric == get_metric("loss")
    config.train.__dict__["valid_metric"] = "cer"        # what a speech task reports, not translation
    with pytest.raises(UserError, match="train.valid_metric=cer: the translation task reports loss, ppl, bleu"):
        _ = task.primary_metric               # reading the property raises
