"""Where a decoder has a whole-sequence fast path, it equals looping over `step` — the single truth."""

import pytest
import torch

from seq2seq.data.batching import make_batch
from seq2seq.model.decoder import Decoder
from helpers import FAMILIES, random_pairs, tiny_model

FUSED = ["vanilla", "luong-concat-nofeed", "luong-general-nofeed", "luong-local-m-nofeed", "luong-local-p-nofeed"]


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
@pytest.mark.parametrize("name", FUSED)
def test_fused_forward_equals_step_loop(name, rnn):
    model = tiny_model(FAMILIES[name], rnn)
    assert type(model.decoder).forward is not Decoder.forward, "this family should have a fused path"
    src, tgt = random_pairs(7, seed=5)
    batch = make_batch(src, tgt)
    with torch.no_grad():
        memory = model.encode(batch.src, batch.src_lengths)
        fused_out, fused_attn = model.decoder(batch.tgt_in, memory)
        step_out, step_attn = Decoder.forward(model.decoder, batch.tgt_in, memory)
    torch.testing.assert_close(fused_out, step_out, rtol=0, atol=1e-6)
    if fused_attn is not None:
        torch.testing.assert_close(fused_attn, step_attn, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["luong-concat-nofeed", "luong-local-p-nofeed"])
def test_fused_path_gradients_match_step_loop(name):
    model = tiny_model(FAMILIES[name])
    src, tgt = random_pairs(4, seed=2)
    batch = make_batch(src, tgt)
    grads = []
    for forward in (type(model.decoder).forward, Decoder.forward):
        model.zero_grad()
        memory = model.encode(batch.src, batch.src_lengths)
        out, _ = forward(model.decoder, batch.tgt_in, memory)
        out[batch.tgt_mask].sum().backward()
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
