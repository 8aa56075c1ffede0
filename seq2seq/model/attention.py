"""Attention: score every encoder state, softmax over real positions, weighted sum → context.

Every module here is stateless apart from its parameters:

    context, weights = attention(query, keys, values, mask, cache)

query (batch, steps, query_size) — `steps` is 1 inside a decoder step and the whole target in a fused pass;
keys/values (batch, src_len, memory_size); mask (batch, src_len), True on real positions. What can be computed once
per batch (projected keys) comes from `prepare(keys)`; pass it back as `cache` so a decoding loop never redoes it.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over the last axis of scores (batch, steps, src_len); exactly 0 where mask (batch, src_len) is False."""
    scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
    return torch.softmax(scores, dim=-1)


class Attention(nn.Module):
    def prepare(self, keys: Tensor) -> Optional[Tensor]:
        """Per-batch cache computed from keys (batch, src_len, memory_size); None when there is nothing to cache."""
        return None

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor]) -> Tensor:
        raise NotImplementedError

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor,
                cache: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        if cache is None:
            cache = self.prepare(keys)
        weights = masked_softmax(self.score(query, keys, cache), mask)  # (batch, steps, src_len)
        context = torch.bmm(weights, values)                             # (batch, steps, memory_size)
        return context, weights


class AdditiveAttention(Attention):
    """score(q, k) = vᵀ tanh(W q + U k): Bahdanau's score, and Luong's `concat` (vᵀ tanh(W_a[q; k]))."""

    def __init__(self, query_size: int, memory_size: int, attention_size: int):
        super().__init__()
        self.query_proj = nn.Linear(query_size, attention_size, bias=False)
        self.key_proj = nn.Linear(memory_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)  # (batch, src_len, attention_size)

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor]) -> Tensor:
        q = self.query_proj(query)                                  # (batch, steps, attention_size)
        hidden = torch.tanh(q[:, :, None, :] + cache[:, None, :, :])  # (batch, steps, src_len, attention_size)
        return self.v(hidden).squeeze(-1)                             # (batch, steps, src_len)


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


def build_attention(kind: str, query_size: int, memory_size: int, attention_size: int) -> Attention:
    if kind in ("additive", "concat"):
        return AdditiveAttention(query_size, memory_size, attention_size)
    if kind == "dot":
        return DotAttention()
    if kind == "general":
        return GeneralAttention(query_size, memory_size)
    raise ValueError(f"unknown attention score {kind!r}")
