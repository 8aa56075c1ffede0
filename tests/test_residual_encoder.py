"""`model.encoder.residual`: layers above the first add their input to their output — padding never changes a
sentence's states, an upper layer that outputs nothing passes its input through, and the option needs depth."""

from __future__ import annotations

import pytest
import torch

from seq2seq.config import validate
from seq2seq.errors import UserError
from seq2seq.model.seq2seq import Seq2Seq
from helpers import batch_of, random_pairs


def _model(rnn: str, layers: int, residual: bool) -> Seq2Seq:
    raw = {"data": {"synthetic": {"task": "copy"}},
           "model": {"embedding_size": 8,
                     "encoder": {"rnn": rnn, "hidden_size": 16, "layers": layers, "residual": residual,
                                 "dropout": 0.0},
                     "decoder": {"hidden_size": 12, "dropout": 0.0, "attention": "luong", "score": "concat"}}}
    torch.manual_seed(0)
    return Seq2Seq.for_text(validate(raw).model, 13, 13).eval()


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_residual_states_do_not_depend_on_padding(rnn):
    model = _model(rnn, 3, residual=True)
    src, tgt = random_pairs(8, seed=3)
    batch = batch_of(src, tgt)
    with torch.no_grad():
        memory = model.encode(batch.src, batch.src_lengths)                  # (8, src_len, 32)
        assert (memory.states[~memory.mask] == 0).all()
        for i in range(len(src)):
            alone = batch_of([src[i]], [tgt[i]])
            single = model.encode(alone.src, alone.src_lengths)               # (1, len_i, 32)
            n = len(src[i])
            torch.testing.assert_close(memory.states[i, :n], single.states[0], rtol=0, atol=1e-6)
            torch.testing.assert_close(memory.final[i], single.final[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_silent_upper_layers_pass_the_first_layers_states_through(rnn):
    """With its weights zeroed an upper RNN outputs 0 everywhere (GRU: n = tanh(0); LSTM: c = 0), so a residual
    stack then equals its first layer alone; a plain stack would output zeros instead."""
    deep, shallow = _model(rnn, 3, residual=True), _model(rnn, 1, residual=False)
    shallow.encoder.load_state_dict(deep.encoder.state_dict(), strict=False)  # same embedding and first layer
    with torch.no_grad():
        for layer in deep.encoder.residual:
            for p in layer.parameters():
                p.zero_()
        batch = batch_of(*random_pairs(6, seed=4))
        got = deep.encode(batch.src, batch.src_lengths).states
        want = shallow.encode(batch.src, batch.src_lengths).states
    assert float(want.abs().max()) > 0.01
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_residual_layers_are_counted_in_the_depth():
    model = _model("gru", 3, residual=True)
    assert model.encoder.rnn.num_layers == 1 and len(model.encoder.residual) == 2
    plain = _model("gru", 3, residual=False)
    assert plain.num_parameters() == model.num_parameters()


def test_residual_needs_two_layers():
    raw = {"data": {"synthetic": {"task": "copy"}}, "model": {"encoder": {"layers": 1, "residual": True}}}
    with pytest.raises(UserError, match=r"residual.*layers >= 2.*layers=1"):
        validate(raw)
