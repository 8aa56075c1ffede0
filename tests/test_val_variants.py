"""experiments/val_variants.py: a run's best checkpoint and the averages of its last N snapshots, each scored on the
run's own validation pairs at every α — the figures `seq2seq evaluate` gives for each, the best one named."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seq2seq.checkpoint import list_snapshots, load_weights, read_config
from seq2seq.cli import main
from seq2seq.data.text.pipeline import load_corpora
from seq2seq.training.train import train
from helpers import toy_config
from seq2seq.rundir import RunDir

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "val_variants.py"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("variants") / "run"
    train(toy_config("copy", train_size=300, epochs=10, valid_every=5, max_steps=20, keep_checkpoints=3), path,
          verbose=False)
    return path


def variants(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def evaluate(capsys, model: Path, src: Path, ref: Path, alpha: float) -> dict:
    assert main(["evaluate", str(model), "--src", str(src), "--ref", str(ref), "--beam-size", "2", "--alpha",
                 str(alpha), "--threads", "1", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    return {"bleu": s["bleu"], "chrf": s["chrf"]}


def test_each_variant_scores_what_evaluate_gives_on_the_run_s_validation_pairs(run, tmp_path, capsys):
    kept, out = tmp_path / "kept", tmp_path / "variants.json"
    done = variants(str(run), "--last", "2", "--alphas", "0.0", "1.0", "--beam-size", "2", "--keep", str(kept),
                    "--output", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert [r["variant"] for r in result["rows"]] == ["best checkpoint", "last 2 averaged"]

    averaged = kept / "run_last2"
    snapshots = [load_weights(p) for p in list_snapshots(run)[-2:]]
    for name, tensor in load_weights(RunDir(averaged).best).items():
        assert torch.allclose(tensor, (snapshots[0][name] + snapshots[1][name]) / 2)

    valid = load_corpora(read_config(run), ("valid",))["valid"]
    src, ref = tmp_path / "valid.src", tmp_path / "valid.ref"
    src.write_text("".join(f"{s}\n" for s in valid.src))
    ref.write_text("".join(f"{t}\n" for t in valid.tgt))
    for row, model in zip(result["rows"], (run, averaged)):
        for alpha in (0.0, 1.0):
            assert row["scores"][str(alpha)] == evaluate(capsys, model, src, ref, alpha)

    chosen = result["best"]
    named = next(r for r in result["rows"] if r["variant"] == chosen["variant"])
    assert named["scores"][str(chosen["alpha"])]["bleu"] == chosen["bleu"]
    assert chosen["bleu"] == max(r["scores"][str(a)]["bleu"] for r in result["rows"] for a in (0.0, 1.0))
    assert "| best checkpoint | " in done.stdout and f"best: {chosen['variant']}" in done.stdout


def test_a_source_without_references_is_one_clear_line(run):
    done = variants(str(run), "--src", "x.txt")
    assert done.returncode != 0
    assert done.stderr.strip() == "--src and --ref go together"
