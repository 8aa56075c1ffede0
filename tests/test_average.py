"""Checkpoint averaging: the average of one snapshot is that snapshot; of several, their mean."""

import pytest
import torch

from seq2seq import load
from seq2seq.tools.average import average_run
from seq2seq.checkpoint import list_snapshots, load_weights, read_metadata
from seq2seq.errors import UserError
from seq2seq.training.train import train
from helpers import FAMILIES, toy_config
from seq2seq.rundir import RunDir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("avg") / "run"
    config = toy_config("copy", FAMILIES["bahdanau"], train_size=300, epochs=10, valid_every=5, max_steps=20,
                        keep_checkpoints=3)
    train(config, path, verbose=False)
    return path


def test_only_the_last_snapshots_are_kept(run):
    assert [p.name for p in list_snapshots(run)] == [f"step-{s:09d}.safetensors" for s in (10, 15, 20)]


def test_average_of_one_is_that_checkpoint(run, tmp_path):
    average_run(run, tmp_path / "one", last=1)
    original = load_weights(list_snapshots(run)[-1])
    averaged = load_weights(RunDir(tmp_path / "one").best)
    assert original.keys() == averaged.keys()
    for k in original:
        assert torch.equal(original[k], averaged[k]), k
    texts = ["a b c", "d e"]
    assert [t.text for t in load(tmp_path / "one").translate(texts)] == \
           [t.text for t in load(run, which=str(list_snapshots(run)[-1])).translate(texts)]


def test_average_of_several_is_the_mean(run, tmp_path):
    average_run(run, tmp_path / "three", last=3)
    snaps = [load_weights(p) for p in list_snapshots(run)]
    averaged = load_weights(RunDir(tmp_path / "three").best)
    for k in averaged:
        torch.testing.assert_close(averaged[k], sum(s[k] for s in snaps) / 3)
    assert read_metadata(RunDir(tmp_path / "three").best)["averaged_steps"] == "10,15,20"


def test_best_picks_by_validation_metric(run, tmp_path):
    values = {p: float(read_metadata(p)["value"]) for p in list_snapshots(run)}
    chosen = average_run(run, tmp_path / "best", best=1)
    assert values[chosen[0]] == max(values.values())


def test_best_follows_the_direction_of_the_run_metric(tmp_path):
    # validation loss: lower is better, so --best 1 takes the snapshot with the smallest recorded value
    config = toy_config("copy", FAMILIES["bahdanau"], train_size=300, epochs=10, valid_every=5, max_steps=20,
                        keep_checkpoints=4, valid_metric="loss")
    train(config, tmp_path / "run", verbose=False)
    values = {p: float(read_metadata(p)["value"]) for p in list_snapshots(tmp_path / "run")}
    assert {read_metadata(p)["metric"] for p in values} == {"loss"} and len(set(values.values())) == 4
    chosen = average_run(tmp_path / "run", tmp_path / "best", best=2)
    assert chosen == sorted(sorted(values, key=values.get)[:2])
    assert max(values[p] for p in chosen) < max(values.values())


def test_errors(run, tmp_path):
    with pytest.raises(UserError, match="keeps 3"):
        average_run(run, tmp_path / "x", last=4)
    (tmp_path / "exists").mkdir()
    with pytest.raises(UserError, match="already exists"):
        average_run(run, tmp_path / "exists", last=1)
