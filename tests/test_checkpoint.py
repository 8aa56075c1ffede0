"""Save → load reproduces outputs exactly; an interrupted and resumed run equals an uninterrupted one."""

import json

import pytest
import torch

from seq2seq import load
from seq2seq.checkpoint import load_weights, read_metrics
from seq2seq.training.train import train
from helpers import FAMILIES, toy_config
from seq2seq.rundir import RunDir


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
    state = torch.load(RunDir(tmp_path).train_state, weights_only=True)
    on_disk = load_weights(RunDir(tmp_path).last)
    for k, v in state["model"].items():
        assert torch.equal(on_disk[k], v), k
    assert (RunDir(tmp_path).best).is_file()


def test_resume_equals_uninterrupted_run(tmp_path):
    full_losses, part_losses = [], []
    train(small(max_steps=45), tmp_path / "full", verbose=False, on_step=lambda s, l: full_losses.append((s, l)))
    # interrupted at a step that is not a validation step, then resumed to the same end
    train(small(max_steps=17), tmp_path / "part", verbose=False, on_step=lambda s, l: part_losses.append((s, l)))
    train(small(max_steps=45), tmp_path / "part", resume=True, verbose=False,
          on_step=lambda s, l: part_losses.append((s, l)))
    assert part_losses == full_losses
    full = load_weights(RunDir(tmp_path / "full").last)
    part = load_weights(RunDir(tmp_path / "part").last)
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
    state = torch.load(RunDir(tmp_path).train_state, weights_only=True)   # would raise on arbitrary objects
    assert state["step"] == 3
    # the keys are those run directories of earlier versions hold, so that they still resume
    assert set(state) == {"model", "optimizer", "scheduler", "step", "epoch", "batch_in_epoch", "best",
                          "patience_best", "bad_validations", "rng", "cuda_rng", "kind", "nonfinite",
                          "nonfinite_in_row", "base_lr", "world_size", "rank_rngs", "rank_cuda_rngs",
                          "train_seconds"}
    assert state["world_size"] == 1 and state["rank_rngs"] is None    # one process: no per-rank generators
    for line in (RunDir(tmp_path).metrics).read_text().splitlines():
        json.loads(line)


def test_stop_at_ends_training_at_the_first_validation_reaching_the_target(tmp_path):
    from helpers import toy_config
    from seq2seq.checkpoint import read_metrics
    from seq2seq.training.train import train

    config = toy_config("copy", max_steps=2000, valid_every=25, stop_at=50.0)
    result = train(config, tmp_path, verbose=False)
    valid = [e for e in read_metrics(tmp_path) if e["event"] == "valid"]
    assert result.steps < 2000 and "stop_at" in result.stopped
    assert valid[-1]["accuracy"] >= 50.0 and all(e["accuracy"] < 50.0 for e in valid[:-1])


def test_stop_at_with_a_lower_is_better_metric_stops_at_the_first_validation_at_or_below_it(tmp_path):
    config = toy_config("copy", max_steps=2000, valid_every=25, valid_metric="loss", stop_at=1.0)
    result = train(config, tmp_path, verbose=False)
    losses = [e["loss"] for e in read_metrics(tmp_path) if e["event"] == "valid"]
    assert result.steps < 2000 and "reached loss" in result.stopped and "stop_at" in result.stopped
    assert losses[-1] <= 1.0 and all(loss > 1.0 for loss in losses[:-1])
    assert result.best == min(losses)


def test_every_validation_writes_heatmaps_of_the_same_dev_sentences(tmp_path):
    from helpers import FAMILIES, toy_config
    from seq2seq.training.train import train

    config = toy_config("reverse", FAMILIES["luong-general"], max_steps=60, valid_every=30, attention_plots=2)
    train(config, tmp_path, verbose=False)
    for sentence in ("val01", "val02"):
        folder = tmp_path / "attention" / sentence
        assert sorted(p.name for p in folder.glob("*.png")) == ["step0000030.png", "step0000060.png"]
        saved = json.loads((folder / "step0000060.json").read_text())
        assert len(saved["attention"]) == len(saved["tgt_tokens"])
        assert all(len(row) == len(saved["src_tokens"]) for row in saved["attention"])
    assert not (tmp_path / "attention" / "val03").exists()


def test_saved_then_loaded_model_equals_the_in_memory_model_that_was_saved(tmp_path):
    """Not two loads of one file: weights that exist only in memory are saved, loaded back, and compared with the
    model that produced them, bit for bit, and by what they decode."""
    from seq2seq.checkpoint import save_weights
    from seq2seq.inference.loading import load_run
    from seq2seq.search import SearchOptions, decode_all

    config = small(max_steps=2, attention_plots=0)
    train(config, tmp_path, verbose=False)
    loaded_run = load_run(tmp_path, "best")
    run_config, model, (src_tok, tgt_tok) = loaded_run.config, loaded_run.model, loaded_run.vocab
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():                           # weights no file holds yet, and no initialisation could give
        g = torch.Generator().manual_seed(1234)
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.3)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    assert any(not torch.equal(saved[k], fresh[k]) for k in saved)
    save_weights(RunDir(tmp_path).best, model, step=99)

    loaded = load_run(tmp_path, "best").model
    assert loaded is not model
    state = loaded.state_dict()
    assert state.keys() == saved.keys()
    for k in saved:
        assert state[k].dtype == saved[k].dtype and torch.equal(state[k], saved[k]), k
    assert not loaded.training

    sources = [src_tok.encode(t) for t in ["a b c", "f e d c b a", "b", "c c a e"]]
    for opts in (SearchOptions(), SearchOptions(beam_size=3, n_best=3, alpha=0.6, beta=0.2)):
        want = decode_all(model.eval(), sources, opts, batch_size=4)
        got = decode_all(loaded, sources, opts, batch_size=4)
        for x, y in zip(want, got):
            assert [(h.tokens, h.finished, h.score, h.rank) for h in x] == [(h.tokens, h.finished, h.score, h.rank)
                                                                             for h in y]
            assert all(torch.equal(h.attention, k.attention) for h, k in zip(x, y))
    # the public API reads the same weights
    texts = load(tmp_path).translate(["a b c", "f e d c b a"], beam_size=1)
    limits = dict(max_len_a=run_config.decode.max_len_a, max_len_b=run_config.decode.max_len_b)
    greedy = decode_all(model, sources[:2], SearchOptions(**limits), batch_size=2)
    assert [t.text for t in texts] == [tgt_tok.decode(h[0].tokens) for h in greedy]


def test_translating_before_the_first_validation_says_which_weights_or_refuses(tmp_path, capsys):
    from seq2seq.cli import main
    from seq2seq.training.trainer import Trainer

    run, lines = tmp_path / "run", tmp_path / "in.txt"
    lines.write_text("a b c\n")
    Trainer(small(max_steps=12), run, verbose=False).save("start")     # the state right after `train` starts
    capsys.readouterr()
    assert main(["translate", str(run), "--input", str(lines)]) == 2
    err = capsys.readouterr().err
    assert "no trained weights yet" in err and "first validation" in err
    # weights of update 12 but no validation yet (a run killed before it): used, and the user is told
    train(small(max_steps=12), tmp_path / "trained", verbose=False)
    (RunDir(tmp_path / "trained").best).unlink()
    assert main(["translate", str(tmp_path / "trained"), "--input", str(lines)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "using last.safetensors, the weights of update 12" in err
