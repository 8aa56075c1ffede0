"""`seq2seq runs`: every run directory under a folder in one row — the best validation value and its update, the
updates done, finished or not — sorted for comparison, as a table or JSON; unreadable runs listed, never fatal."""

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from seq2seq.checkpoint import read_metrics
from seq2seq.cli import main
from seq2seq.training.train import train
from helpers import toy_config


class Crash(Exception):
    """Stands for whatever kills a training process between two updates."""


def crash_at(step: int):
    def on_step(current: int, loss: float) -> None:
        if current == step:
            raise Crash
    return on_step


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """runs/long (30 updates), runs/short (4 updates), both judged by validation loss; runs/crashed (killed after
    update 5, one validation at update 4)."""
    root = tmp_path_factory.mktemp("runs")
    small = dict(task="copy", train_size=200, valid_metric="loss")
    train(toy_config(**small, max_steps=30, valid_every=10), root / "long", verbose=False)
    train(toy_config(**small, max_steps=4, valid_every=2), root / "short", verbose=False)
    with pytest.raises(Crash):
        train(toy_config(**small, max_steps=30, valid_every=4, log_every=1), root / "crashed", verbose=False,
              on_step=crash_at(5))
    return root


def listing(capsys, *args: str) -> list[dict]:
    assert main(["runs", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def table(capsys, *args: str) -> list[list[str]]:
    """The table's rows (header first), cells split on runs of two spaces."""
    assert main(["runs", *args]) == 0
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in capsys.readouterr().out.splitlines()]


def expected_best(run_dir: Path) -> tuple[float, int]:
    """The lowest validation loss in metrics.jsonl and the first update that reached it."""
    valid = [e for e in read_metrics(run_dir) if e["event"] == "valid"]
    best = min(e["loss"] for e in valid)
    return best, min(e["step"] for e in valid if e["loss"] == best)


def test_rows_show_the_best_validation_its_update_and_sort_best_first(root, capsys):
    rows = {r["run"]: r for r in listing(capsys, str(root))}
    assert set(rows) == {str(root / name) for name in ("long", "short", "crashed")}
    for name, updates in (("long", 30), ("short", 4)):
        row = rows[str(root / name)]
        assert (row["best"], row["best_step"]) == expected_best(root / name)
        assert (row["task"], row["decoder"], row["metric"], row["updates"]) == ("translation", "bahdanau", "loss",
                                                                                 updates)
    # every run is judged by loss: the default order is by it, lowest first
    order = [r["run"] for r in listing(capsys, str(root))]
    assert order == sorted(order, key=lambda run: rows[run]["best"])
    lines = table(capsys, str(root))
    assert lines[0] == ["run", "task", "decoder", "best", "at update", "updates", "state", "age"]
    assert [line[0] for line in lines[1:]] == order
    best, step = expected_best(root / "long")
    assert lines[1 + order.index(str(root / "long"))][3:5] == [f"loss {best:g}", f"{step:,}"]


def test_finished_and_crashed_runs_are_told_apart(root, capsys):
    rows = {Path(r["run"]).name: r for r in listing(capsys, str(root))}
    assert rows["long"]["state"] == rows["short"]["state"] == "finished"
    assert rows["long"]["reason"] == "reached 30 steps"
    crashed = rows["crashed"]
    assert crashed["state"] == "unfinished"
    assert crashed["updates"] == max(e["step"] for e in read_metrics(root / "crashed")) >= 4
    assert crashed["best_step"] == 4


def test_a_run_stopped_by_ctrl_c_is_interrupted(tmp_path, capsys):
    def ctrl_c_at_update_3(step: int, loss: float) -> None:
        if step == 3:
            signal.raise_signal(signal.SIGINT)     # training saves and stops after this update

    train(toy_config("copy", train_size=200, max_steps=30, valid_metric="loss"), tmp_path / "run", verbose=False,
          on_step=ctrl_c_at_update_3)
    [row] = listing(capsys, str(tmp_path))
    assert (row["state"], row["updates"], row["best"]) == ("interrupted", 3, None)


def test_sort_by_name_and_by_age(root, tmp_path, capsys):
    folder = tmp_path / "runs"
    for name, age in (("b", 3 * 3600), ("a", 2 * 86400), ("c", 5 * 60)):
        shutil.copytree(root / "short", folder / name)
        stamp = (folder / name / "metrics.jsonl").stat().st_mtime - age
        os.utime(folder / name / "metrics.jsonl", (stamp, stamp))
    assert [Path(r["run"]).name for r in listing(capsys, str(folder), "--sort", "name")] == ["a", "b", "c"]
    rows = table(capsys, str(folder), "--sort", "age")
    assert [(Path(r[0]).name, r[-1]) for r in rows[1:]] == [("c", "5 min"), ("b", "3 h"), ("a", "2 d")]


def test_runs_judged_by_different_metrics_sort_newest_first(root, tmp_path, capsys):
    train(toy_config("copy", train_size=200, max_steps=2, valid_metric="accuracy"), tmp_path / "acc", verbose=False)
    shutil.copytree(root / "long", tmp_path / "loss")
    old = (tmp_path / "loss" / "metrics.jsonl").stat().st_mtime - 3600
    os.utime(tmp_path / "loss" / "metrics.jsonl", (old, old))
    rows = listing(capsys, str(tmp_path))
    assert [(Path(r["run"]).name, r["metric"]) for r in rows] == [("acc", "accuracy"), ("loss", "loss")]


def test_unreadable_runs_are_listed_with_their_error(root, tmp_path, capsys):
    for name in ("config", "format", "newer", "metrics", "fine"):
        shutil.copytree(root / "short", tmp_path / name)
    (tmp_path / "config" / "config.yaml").write_text("model: [unclosed\n")
    (tmp_path / "format" / "format.json").write_text("{not json")
    (tmp_path / "newer" / "format.json").write_text('{"format_version": 99}')
    (tmp_path / "metrics" / "metrics.jsonl").write_bytes(b"\xff\xfe broken\n")
    rows = table(capsys, str(tmp_path), "--sort", "name")
    states = {Path(r[0]).name: r[-2] for r in rows[1:]}
    assert states == {"config": "unreadable", "fine": "finished", "format": "unreadable", "metrics": "unreadable",
                      "newer": "unreadable"}
    assert main(["runs", str(tmp_path)]) == 0
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 4 and all(line.startswith("seq2seq: warning: ") for line in warnings)
    assert any(str(tmp_path / "newer") in line and "format 99" in line for line in warnings)
    errors = {Path(r["run"]).name: r["error"] for r in listing(capsys, str(tmp_path))}
    assert errors["fine"] == "" and "metrics.jsonl" in errors["metrics"]


def test_a_missing_folder_is_an_error_an_empty_one_a_line(tmp_path, capsys, monkeypatch):
    assert main(["runs", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"seq2seq: error: {tmp_path / 'nowhere'}: no such directory"
    monkeypatch.chdir(tmp_path)
    assert main(["runs"]) == 2                         # the default folder, runs/, does not exist here
    assert "runs: no such directory" in capsys.readouterr().err
    (tmp_path / "runs" / "not-a-run").mkdir(parents=True)
    assert main(["runs"]) == 0
    assert capsys.readouterr().out == "no run directories under runs\n"
    assert listing(capsys) == []


def test_a_run_directory_given_itself_is_its_own_row_and_its_folders_are_not_searched(root, capsys):
    rows = listing(capsys, str(root / "short"))
    assert [r["run"] for r in rows] == [str(root / "short")]
