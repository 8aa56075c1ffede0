"""Run directories of format 1 keep loading, and keep translating exactly as they did.

tests/data/format1_run is a run directory written by seq2seq 0.1.0 (run-directory format 1): a GRU encoder, a
Luong general-score decoder with input feeding, trained on the synthetic reverse task; only what loading reads is
kept (format.json, config.yaml, tokenizer/, best.safetensors). tests/data/format1_expected.json holds what that
version's `Translator.load(dir).translate_n_best` returned for it: greedy and beam-4 n-best texts, tokens, scores and
attention. Any later version must load the directory unchanged and reproduce those outputs (texts identical, numbers
within 1e-5).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seq2seq.inference.translator import Translator
from seq2seq.checkpoint import FORMAT_VERSION, READS_FORMATS, read_config

DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "format1_run"
EXPECTED = json.loads((DATA / "format1_expected.json").read_text(encoding="utf-8"))
CASES = EXPECTED["cases"]
TOL = 1e-5


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    # a copy: loading must not need (or write) anything beside these files, wherever the directory lives
    run_dir = tmp_path_factory.mktemp("format1") / "run"
    shutil.copytree(FIXTURE, run_dir)
    before = sorted(p.relative_to(run_dir) for p in run_dir.rglob("*"))
    loaded = Translator.load(run_dir)
    assert sorted(p.relative_to(run_dir) for p in run_dir.rglob("*")) == before
    return loaded


def test_the_fixture_is_a_format_1_run_directory_without_data_files():
    assert json.loads((FIXTURE / "format.json").read_text())["format_version"] == 1
    assert 1 in READS_FORMATS and FORMAT_VERSION > 1          # written before frontends and heads; still read
    names = sorted(str(p.relative_to(FIXTURE)) for p in FIXTURE.rglob("*") if p.is_file())
    assert names == ["best.safetensors", "config.yaml", "format.json", "tokenizer/joint.vocab.json"]
    config = read_config(FIXTURE)
    assert config.data.synthetic is not None and config.data.root is None


def assert_attention_close(got, want, what):
    if want is None:
        assert got is None, what
        return
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if want.size == 0:                   # an empty input: an empty matrix
        assert got.size == 0, what
        return
    assert got.shape == want.shape, what
    assert np.abs(got - want).max(initial=0.0) <= TOL, what


def test_greedy_outputs_are_unchanged(translator):
    inputs = [c["input"] for c in CASES]
    results = translator.translate_n_best(inputs, **EXPECTED["search"]["greedy"])   # all in one batch
    for want, [got] in zip(CASES, results):
        g = want["greedy"]
        assert (got.text, got.tokens) == (g["text"], g["tokens"]), want["input"]
        assert abs(got.score - g["score"]) <= TOL, want["input"]
        assert_attention_close(got.attention, g["attention"], want["input"])


def test_beam_n_best_lists_are_unchanged(translator):
    inputs = [c["input"] for c in CASES]
    results = translator.translate_n_best(inputs, **EXPECTED["search"]["beam"])   # all in one batch
    for want, hyps in zip(CASES, results):
        assert [(h.text, h.tokens) for h in hyps] == [(b["text"], b["tokens"]) for b in want["beam"]], want["input"]
        for h, b in zip(hyps, want["beam"]):
            assert abs(h.score - b["score"]) <= TOL, (want["input"], h.text)
        assert_attention_close(hyps[0].attention, want["beam_best_attention"], want["input"])


def test_the_fixture_exercises_what_it_should():
    """The recorded cases are not trivial: wrong and right outputs, unknown symbols, n-best lists that differ."""
    assert len(CASES) >= 10
    assert sum(len(c["beam"]) == 4 for c in CASES) >= 9
    reverse = lambda text: " ".join(text.split()[::-1])
    assert any(c["input"] and c["greedy"]["text"] == reverse(c["input"]) for c in CASES)
    assert any(c["greedy"]["text"] != reverse(c["input"]) for c in CASES)
    assert any("z" in c["input"] for c in CASES) and any(c["input"] == "" for c in CASES)


def test_a_format_1_run_is_not_resumed_with_its_old_optimizer_layout(tmp_path):
    """Its Adam state follows the old parameter order: resuming refuses with a way forward, not a crash."""
    import shutil

    from seq2seq.errors import UserError
    from seq2seq.training.train import train

    run = tmp_path / "old"
    shutil.copytree(FIXTURE, run)
    with pytest.raises(UserError, match=r"format 1\).*cannot resume.*tokenizer\.from_run"):
        train(read_config(run), run, resume=True, verbose=False)
