"""bf16 (autocast) training and decoding: a model trained in bf16 learns the toy task, bf16 decoding agrees with
fp32 decoding, scores and attention stay fp32, and bad precision values are clear errors."""

import pytest
import torch

from seq2seq.inference.translator import Translator
from seq2seq.config import validate
from seq2seq.data.text.lines import read_lines
from seq2seq.devices import precision_context
from seq2seq.search.ensemble import Ensemble
from seq2seq.errors import UserError
from seq2seq.search import SearchOptions
from seq2seq.training.train import train
from helpers import FAMILIES, tiny_model, toy_config


def test_bf16_training_learns_and_bf16_decoding_agrees_with_fp32(tmp_path):
    # stops at the first validation with 99% exact copies: bf16 is emulated (slow) on CPUs without AVX-512 BF16
    config = toy_config("copy", FAMILIES["luong-concat"], precision="bf16", stop_at=99.0)
    train(config, tmp_path, verbose=False)
    translator = Translator.load(tmp_path)
    src = read_lines(tmp_path / "data" / "test.src")
    ref = read_lines(tmp_path / "data" / "test.tgt")
    fp32 = translator.translate(src, precision="fp32")
    bf16 = translator.translate(src, precision="bf16")
    for outputs in (fp32, bf16):
        accuracy = sum(o.text == r for o, r in zip(outputs, ref)) / len(ref)
        assert accuracy >= 0.95, f"{accuracy:.1%} test sequence accuracy"
    same = sum(a.text == b.text for a, b in zip(fp32, bf16)) / len(src)
    assert same >= 0.95
    for a, b in zip(fp32, bf16):
        assert isinstance(b.score, float) and abs(a.score - b.score) < 0.5
        assert b.attention.dtype == fp32[0].attention.dtype
        assert abs(b.attention.sum(1) - 1).max() < 1e-4                # rows still sum to 1
    # beam search in bf16 too
    beam = translator.translate(src[:50], beam_size=3, precision="bf16")
    assert sum(o.text == r for o, r in zip(beam, ref[:50])) >= 47


def test_step_returns_fp32_log_probabilities_under_bf16():
    model = tiny_model(FAMILIES["bahdanau"])
    ens = Ensemble([model])
    src = torch.tensor([[4, 5, 6, 2]])
    with precision_context("bf16", "cpu"), torch.no_grad():
        states = ens.start(src, torch.tensor([4]))
        logp, _, attention = ens.step(torch.tensor([1]), states)
    assert logp.dtype == torch.float32 and attention.dtype == torch.float32
    assert abs(float(logp.exp().sum()) - 1) < 1e-4


def test_bad_precision_values_are_named_errors():
    with pytest.raises(UserError, match="fp16"):
        precision_context("fp16", "cpu")
    with pytest.raises(ValueError, match="precision"):
        SearchOptions(precision="fp16")
    with pytest.raises(UserError, match=r"train\.precision.*fp16"):
        validate({"data": {"synthetic": {"task": "copy"}}, "train": {"precision": "fp16"}})
