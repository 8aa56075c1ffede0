"""Run directories of format 2 keep loading and predicting exactly as they did when they were written.

tests/data/format2_runs holds one small run of each task (translation, speech_to_text, text_to_speech), written by
`tests/data/make_format2_fixtures.py` with only what loading reads, and `expected.json`: what `seq2seq.load(run)`
answered then — texts, tokens, scores, attention, generated mel frames. Every later version must reproduce them
(texts identical, numbers within 1e-5).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seq2seq import load

DATA = Path(__file__).parent / "data" / "format2_runs"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
TOL = 1e-5


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A copy: loading must not need or write anything beside these files, wherever the directories live."""
    folder = tmp_path_factory.mktemp("format2")
    shutil.copytree(DATA, folder / "runs")
    return folder / "runs"


def close(got, want) -> bool:
    if want is None:
        return got is None
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if want.size == 0:                   # an empty input: an empty matrix
        return got.size == 0
    return got.shape == want.shape and float(np.abs(got - want).max()) <= TOL


def test_the_fixtures_are_format_2_runs():
    for task in EXPECTED:
        assert json.loads((DATA / task / "format.json").read_text())["format_version"] == 2


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_a_format_2_translation_run_translates_as_it_did(runs, search):
    case = EXPECTED["translation"]
    n_best = 3 if search == "beam" else 1
    results = load(runs / "translation").translate_n_best(case["inputs"], n_best, attention=True,
                                                           beam_size=n_best)
    for got, want in zip(results, case["outputs"][search], strict=True):
        assert [(h.text, h.tokens) for h in got] == [(w["text"], w["tokens"]) for w in want]
        assert all(abs(h.score - w["score"]) <= TOL and close(h.attention, w["attention"]) for h, w in zip(got, want))


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_a_format_2_speech_to_text_run_transcribes_as_it_did(runs, search):
    case = EXPECTED["speech_to_text"]
    wavs = [runs / "speech_to_text" / "inputs" / name for name in case["inputs"]]
    results = load(runs / "speech_to_text").transcribe(wavs, beam_size=3 if search == "beam" else 1)
    for got, want in zip(results, case["outputs"][search], strict=True):
        assert (got.text, got.tokens) == (want["text"], want["tokens"])
        assert abs(got.score - want["score"]) <= TOL and close(got.attention, want["attention"])


def test_a_format_2_text_to_speech_run_synthesises_as_it_did(runs):
    case = EXPECTED["text_to_speech"]
    results = load(runs / "text_to_speech").synthesize(case["inputs"], iterations=4, seed=1)
    for got, want in zip(results, case["outputs"], strict=True):
        assert (got.tokens, got.stopped, len(got.samples), got.sample_rate) == \
            (want["tokens"], want["stopped"], want["samples"], want["sample_rate"])
        assert close(got.mel, want["mel"]) and close(got.attention, want["attention"])
