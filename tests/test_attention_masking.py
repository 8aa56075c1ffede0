"""Attention weights are a distribution over real positions, and padding never changes any result."""

import pytest
import torch

from seq2seq.data.batching import make_batch
from seq2seq.model.attention import build_attention
from helpers import FAMILIES, attend, random_pairs, tiny_model

MODELS = [(name, rnn) for name in FAMILIES for rnn in ("gru", "lstm")]


@pytest.mark.parametrize("kind", ["additive", "dot", "general", "concat"])
def test_attention_weights_are_a_distribution_over_real_positions(kind):
    torch.manual_seed(0)
    attention = build_attention(kind, 6, 6, 5)
    keys = torch.randn(3, 7, 6)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3, [1] + [0] * 6], dtype=torch.bool)
    query = torch.randn(3, 2, 6)
    context, weights, _ = attend(attention, query, keys, mask)
    assert weights.shape == (3, 2, 7) and context.shape == (3, 2, 6)
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2))
    assert (weights.masked_select(~mask[:, None, :].expand_as(weights)) == 0).all()
    # the cache from prepare() gives the same result as computing it inside
    again, w2, _ = attend(attention, query, keys, mask, attention.prepare(keys))
    assert torch.equal(w2, weights) and torch.equal(again, context)


def _with_extra_padding(batch, extra_src: int, extra_tgt: int):
    pad = lambda t, n: torch.nn.functional.pad(t, (0, n))
    return type(batch)(pad(batch.src, extra_src), batch.src_lengths, pad(batch.src_mask, extra_src),
                       pad(batch.tgt_in, extra_tgt), pad(batch.tgt_out, extra_tgt), pad(batch.tgt_mask, extra_tgt),
                       batch.n_tokens)


@pytest.mark.parametrize("name,rnn", MODELS)
def test_extra_padding_changes_nothing(name, rnn):
    model = tiny_model(FAMILIES[name], rnn)
    src, tgt = random_pairs(5)
    batch = make_batch(src, tgt)
    padded = _with_extra_padding(batch, 4, 3)
    with torch.no_grad():
        logits, attn = model.teacher_forced(batch)
        logits_p, attn_p = model.teacher_forced(padded)
    S, T = batch.src.size(1), batch.tgt_in.size(1)
    m = batch.tgt_mask
    torch.testing.assert_close(logits_p[:, :T][m], logits[m], rtol=0, atol=1e-6)
    if attn is not None:
        torch.testing.assert_close(attn_p[:, :T, :S][m], attn[m], rtol=0, atol=1e-6)
        assert (attn_p[:, :, S:] == 0).all()
        real = batch.src_mask[:, None, :].expand_as(attn)
        assert (attn[~real] == 0).all()
        torch.testing.assert_close(attn[m].sum(-1), torch.ones(int(m.sum())))


@pytest.mark.parametrize("name,rnn", MODELS)
def test_sentence_alone_equals_sentence_in_a_batch(name, rnn):
    model = tiny_model(FAMILIES[name], rnn)
    src, tgt = random_pairs(6, seed=3)
    with torch.no_grad():
        logits, attn = model.teacher_forced(make_batch(src, tgt))
        for i in range(len(src)):
            alone, attn_alone = model.teacher_forced(make_batch([src[i]], [tgt[i]]))
            T = len(tgt[i]) + 1
            torch.testing.assert_close(alone[0, :T], logits[i, :T], rtol=0, atol=1e-5)
            if attn is not None:
                torch.testing.assert_close(attn_alone[0, :T], attn[i, :T, : len(src[i])], rtol=0, atol=1e-6)
