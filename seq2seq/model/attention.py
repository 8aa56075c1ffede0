"""Attention: score every encoder state, softmax over real positions, weighted sum → context.

Every module here is stateless apart from its parameters:

    context, weights = attention(query, keys, values, mask, cache)

query (batch, steps, query_size) — `steps` is 1 inside a decoder step and the whole target in a fused pass;
keys/values (batch, src_len, memory_size); mask (batch, src_len), True on real positions. What can be computed once
per batch (projected keys) comes from `prepare(keys)`; pass it back as `cache` so a decoding loop never redoes it.
`time` (steps,) is the decoder step index of each query; only local attention reads it.

Global attention looks at every source position. Luong's local attention (2015, §3.2) looks at a window
[p_t - D, p_t + D] around an aligned position p_t: `local-m` assumes monotonic alignment (p_t = t, kept inside the
sentence), `local-p` predicts p_t = S · sigmoid(v_pᵀ tanh(W_p h_t)) (S the real source length) and favours positions
near it with a Gaussian of σ = D/2. Here the Gaussian is applied to the scores before the softmax (log space), so
the weights over the window are renormalised and sum to 1; the paper multiplies after the softmax.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over the last axis of scores (batch, steps, src_len); exactly 0 where mask (batch, src_len) is False."""
    scores = scores.float().masked_fill(~mask[:, None, :], float("-inf"))   # fp32 even when products run in bf16
    return torch.softmax(scores, dim=-1)


class Attention(nn.Module):
    def prepare(self, keys: Tensor) -> Optional[Tensor]:
        """Per-batch cache computed from keys (batch, src_len, memory_size); None when there is nothing to cache."""
        return None

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor]) -> Tensor:
        raise NotImplementedError

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor,
                cache: Optional[Tensor] = None, time: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        if cache is None:
            cache = self.prepare(keys)
        weights = masked_softmax(self.score(query, keys, cache), mask)  # (batch, steps, src_len)
        context = torch.bmm(weights, values)                             # (batch, steps, memory_size)
        return context, weights


class AdditiveAttention(Attention):
    """score(q, k) = vᵀ tanh(W q + U k): Bahdanau's score, and Luong's `concat` (vᵀ tanh(W_a[q; k])).

    Computed as vᵀ tanh(x) = 2·vᵀσ(2x) − Σv (tanh(x) = 2σ(2x) − 1): the same scores up to rounding, but PyTorch's
    CPU kernel for the logistic function is about 7x faster than its tanh (fp32; 3x in bf16), and this product —
    over every (step, source position, attention unit) — is the largest element-wise cost of the decoder step.
    The cache holds 2·(U k + b), doubled once per batch.
    """

    def __init__(self, query_size: int, memory_size: int, attention_size: int):
        super().__init__()
        self.query_proj = nn.Linear(query_size, attention_size, bias=False)
        self.key_proj = nn.Linear(memory_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return 2 * self.key_proj(keys)                                 # (batch, src_len, attention_size)

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor]) -> Tensor:
        q = 2 * self.query_proj(query)                                 # (batch, steps, attention_size)
        hidden = torch.sigmoid(q[:, :, None, :] + cache[:, None, :, :])  # (batch, steps, src_len, attention_size)
        return 2 * self.v(hidden).squeeze(-1) - self.v.weight.sum()    # (batch, steps, src_len)


class DotAttention(Attention):
    """score(q, k) = qᵀ k (Luong `dot`); query and memory sizes must match."""

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor]) -> Tensor:
        return torch.bmm(query, keys.transpose(1, 2))  # (batch, steps, src_len)


class GeneralAttention(Attention):
    """score(q, k) = qᵀ W_a k (Luong `general`); W_a k is the per-batch cache."""

    def __init__(self, query_size: int, memory_size: int):
        super().__init__()
        self.key_proj = nn.Linear(memory_size, query_size, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)  # (batch, src_len, query_size)

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor]) -> Tensor:
        return torch.bmm(query, cache.transpose(1, 2))  # (batch, steps, src_len)


class LocalAttention(Attention):
    """Luong local attention around p_t with half-width `window` (D), over any score function."""

    def __init__(self, score: Attention, kind: str, window: int, query_size: int, attention_size: int):
        super().__init__()
        if kind not in ("local-m", "local-p"):
            raise ValueError(f"unknown local attention {kind!r}")
        if window < 1:
            raise ValueError(f"local attention window must be >= 1, got {window}")
        self.scorer, self.kind, self.window = score, kind, window
        if kind == "local-p":
            self.position_proj = nn.Linear(query_size, attention_size, bias=False)   # W_p
            self.position_v = nn.Linear(attention_size, 1, bias=False)               # v_p

    def prepare(self, keys: Tensor) -> Optional[Tensor]:
        return self.scorer.prepare(keys)

    def centres(self, query: Tensor, mask: Tensor, time: Optional[Tensor]) -> Tensor:
        """p_t (batch, steps): the aligned source position of each query."""
        length = mask.sum(dim=1).to(query.dtype)                                    # (batch,) real source length
        if self.kind == "local-m":
            if time is None:
                raise ValueError("local-m attention needs the decoder step index (time)")
            t = time.to(query.dtype)[None, :]                                       # (1, steps)
            return torch.minimum(t, (length - 1)[:, None])                          # (batch, steps)
        gate = torch.sigmoid(self.position_v(torch.tanh(self.position_proj(query)))).squeeze(-1)  # (batch, steps)
        return length[:, None] * gate

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor,
                cache: Optional[Tensor] = None, time: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        if cache is None:
            cache = self.prepare(keys)
        scores = self.scorer.score(query, keys, cache)                              # (batch, steps, src_len)
        p = self.centres(query, mask, time)                                         # (batch, steps)
        positions = torch.arange(keys.size(1), device=keys.device, dtype=query.dtype)
        distance = positions[None, None, :] - p[:, :, None]                         # (batch, steps, src_len)
        inside = (distance.abs() <= self.window) & mask[:, None, :]                 # (batch, steps, src_len)
        if self.kind == "local-p":
            sigma = self.window / 2.0
            scores = scores - distance.pow(2) / (2 * sigma * sigma)
        weights = torch.softmax(scores.float().masked_fill(~inside, float("-inf")), dim=-1)  # 0 outside the window
        context = torch.bmm(weights, values)                                        # (batch, steps, memory_size)
        return context, weights


def build_attention(kind: str, query_size: int, memory_size: int, attention_size: int,
                    alignment: str = "global", window: int = 10) -> Attention:
    """kind: the score (additive/concat, dot, general); alignment: global, local-m or local-p (window D)."""
    if kind in ("additive", "concat"):
        score: Attention = AdditiveAttention(query_size, memory_size, attention_size)
    elif kind == "dot":
        score = DotAttention()
    elif kind == "general":
        score = GeneralAttention(query_size, memory_size)
    else:
        raise ValueError(f"unknown attention score {kind!r}")
    if alignment == "global":
        return score
    return LocalAttention(score, alignment, window, query_size, attention_size)
