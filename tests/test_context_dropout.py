"""`model.encoder.output_dropout`: dropout on the encoder states the attention reads (the context) — in training
only, never on padding, and inert at inference."""

from __future__ import annotations

import torch

from seq2seq.config import validate
from seq2seq.model.seq2seq import Seq2Seq
from helpers import batch_of, random_pairs


def _model(output_dropout: float) -> Seq2Seq:
    raw = {"data": {"synthetic": {"task": "copy"}},
           "model": {"embedding_size": 8,
                     "encoder": {"hidden_size": 16, "dropout": 0.0, "output_dropout": output_dropout},
                     "decoder": {"hidden_size": 12, "dropout": 0.0, "attention": "luong", "score": "concat"}}}
    torch.manual_seed(0)
    return Seq2Seq.for_text(validate(raw).model, 13, 13)


def test_context_dropout_drops_real_states_in_training_and_keeps_padding_zero():
    model = _model(0.5).train()
    batch = batch_of(*random_pairs(32, seed=1))
    torch.manual_seed(5)
    memory = model.encode(batch.src, batch.src_lengths)                      # (batch, src_len, 32)
    real = memory.states[memory.mask]                                          # (real positions, 32)
    assert (memory.states[~memory.mask] == 0).all()
    dropped = (real == 0).float().mean().item()
    assert 0.4 < dropped < 0.6, dropped
    with torch.no_grad():
        plain = model.eval().encode(batch.src, batch.src_lengths).states[memory.mask]
    kept = real != 0
    assert torch.allclose(real[kept], 2 * plain[kept], atol=1e-6)            # survivors scaled by 1 / (1 - p)


def test_context_dropout_is_inert_at_inference():
    with_dropout, without = _model(0.5).eval(), _model(0.0).eval()
    assert all(torch.equal(a, b) for a, b in zip(with_dropout.state_dict().values(), without.state_dict().values()))
    batch = batch_of(*random_pairs(16, seed=2))
    with torch.no_grad():
        assert torch.equal(with_dropout(batch), without(batch))
        with_dropout.train()
        assert not torch.equal(with_dropout(batch), without(batch))
