"""Luong local attention: weights live in the window and sum to 1; local-m with a window covering the whole
source is global attention."""

import pytest
import torch

from seq2seq.data.batching import make_batch
from seq2seq.model.attention import LocalAttention, build_attention
from helpers import FAMILIES, attend, random_pairs, tiny_model

MASK = torch.tensor([[1] * 9, [1] * 5 + [0] * 4, [1] * 2 + [0] * 7], dtype=torch.bool)   # lengths 9, 5, 2


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
@pytest.mark.parametrize("kind", ["local-m", "local-p"])
@pytest.mark.parametrize("window", [1, 2, 4])
def test_weights_are_zero_outside_the_window_and_sum_to_one(kind, score, window):
    torch.manual_seed(1)
    attention = build_attention(score, 6, 6, 5, alignment=kind, window=window)
    keys = torch.randn(3, 9, 6)
    query = torch.randn(3, 7, 6)
    time = torch.arange(7)
    context, weights, _ = attend(attention, query, keys, MASK)                      # (3, 7, 9)
    assert context.shape == (3, 7, 6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 7))
    centre = attention.centres(query, MASK, time)                                     # (3, 7)
    distance = (torch.arange(9)[None, None, :] - centre[:, :, None]).abs()
    outside = (distance > window) | ~MASK[:, None, :]
    assert (weights[outside] == 0).all()
    assert (weights[~outside] > 0).all()
    lengths = MASK.sum(1)
    assert (centre >= 0).all() and (centre <= lengths[:, None]).all()
    if kind == "local-m":   # p_t = t, kept inside the sentence
        expected = torch.minimum(time[None, :], lengths[:, None] - 1).float()
        torch.testing.assert_close(centre, expected)


@pytest.mark.parametrize("score", ["dot", "general", "concat"])
def test_local_m_with_a_window_over_the_whole_source_is_global_attention(score):
    torch.manual_seed(2)
    local = build_attention(score, 6, 6, 5, alignment="local-m", window=9)
    glob = build_attention(score, 6, 6, 5)
    glob.load_state_dict(local.scorer.state_dict())
    keys, query = torch.randn(3, 9, 6), torch.randn(3, 12, 6)
    c_local, w_local, _ = attend(local, query, keys, MASK)
    c_global, w_global, _ = attend(glob, query, keys, MASK)
    torch.testing.assert_close(w_local, w_global, rtol=0, atol=1e-7)
    torch.testing.assert_close(c_local, c_global, rtol=0, atol=1e-7)


@pytest.mark.parametrize("feeding", [True, False])
def test_whole_model_local_m_with_a_wide_window_equals_global(feeding):
    base = {"attention": "luong", "score": "general", "input_feeding": feeding}
    local = tiny_model({**base, "alignment": "local-m", "window": 50}, seed=3)
    glob = tiny_model(base, seed=3)
    glob.load_state_dict({k.replace("attention.scorer.", "attention."): v for k, v in local.state_dict().items()})
    src, tgt = random_pairs(6, seed=4)
    batch = make_batch(src, tgt)
    with torch.no_grad():
        logits_l, attn_l = local.teacher_forced(batch)
        logits_g, attn_g = glob.teacher_forced(batch)
    torch.testing.assert_close(logits_l, logits_g, rtol=0, atol=1e-6)
    torch.testing.assert_close(attn_l, attn_g, rtol=0, atol=1e-6)


def test_local_p_learns_where_to_look():
    """The predicted position gets gradients (W_p, v_p are trained), and steps see different windows."""
    model = tiny_model(FAMILIES["luong-local-p"], seed=5).train()
    src, tgt = random_pairs(4, seed=6, max_len=12)
    batch = make_batch(src, tgt)
    logits, attention = model.teacher_forced(batch)
    logits.logsumexp(-1)[batch.tgt_mask].sum().backward()
    local = model.decoder.attention
    assert isinstance(local, LocalAttention)
    assert local.position_proj.weight.grad.abs().sum() > 0 and local.position_v.weight.grad.abs().sum() > 0
    # with D = 2 each row of weights covers at most 2D + 1 = 5 positions
    assert int((attention > 0).sum(-1).max()) <= 5


def test_local_attention_is_rejected_outside_luong():
    from seq2seq.config import validate
    from seq2seq.errors import UserError

    with pytest.raises(UserError, match="alignment='local-m' applies only to attention=luong"):
        validate({"data": {"synthetic": {"task": "copy"}},
                  "model": {"decoder": {"attention": "bahdanau", "alignment": "local-m"}}})
    with pytest.raises(UserError, match="model.decoder.window"):
        validate({"data": {"synthetic": {"task": "copy"}}, "model": {"decoder": {"window": 0}}})
