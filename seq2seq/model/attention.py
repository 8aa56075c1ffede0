"""Attention: score every encoder state, softmax over real positions, weighted sum → context.

Every module here is stateless apart from its parameters; what changes from step to step travels explicitly:

    context, weights, att_state = attention(query, memory, att_state)

query (batch, steps, query_size) — `steps` is 1 inside a decoder step and the whole target in a fused pass;
`memory` the encoder's `Memory`: states (batch, src_len, memory_size), its own mask (batch, src_len) True on real
positions, and `memory.cache`, what `prepare(states)` computed once per batch (projected keys) so a decoding loop
never redoes it. `att_state` (`AttentionState`) holds the previous and cumulative weights and the decoder step
index: content scores ignore it, location-aware scores read the weights, Luong's local-m reads the step index.

Global attention looks at every source position. Luong's local attention (2015, §3.2) looks at a window
[p_t - D, p_t + D] around an aligned position p_t: `local-m` assumes monotonic alignment (p_t = t, kept inside the
sentence), `local-p` predicts p_t = S · sigmoid(v_pᵀ tanh(W_p h_t)) (S the real source length) and favours positions
near it with a Gaussian of σ = D/2. Here the Gaussian is applied to the scores before the softmax (log space), so
the weights over the window are renormalised and sum to 1; the paper multiplies after the softmax.

Location-aware attention (Chorowski et al. 2015, as in Tacotron 2): the additive score gains a term from a 1-D
convolution over the previous and the cumulative weights, f = F * [α_{t-1}; Σα], so the model can learn to move
forward monotonically — what speech needs. It is sequential by nature: a fused pass over many steps is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from .encoder import Memory


@dataclass
class AttentionState:
    """What attention carries from one decoder step to the next (every row of a batch at the same step)."""

    time: int = 0                         # decoder steps taken so far; Luong local-m reads it
    previous: Optional[Tensor] = None     # (batch, src_len) the last step's weights; location-aware scores only
    cumulative: Optional[Tensor] = None   # (batch, src_len) their sum over past steps; location-aware scores only

    def select(self, index: Tensor) -> "AttentionState":
        pick = lambda t: None if t is None else t.index_select(0, index)
        return AttentionState(self.time, pick(self.previous), pick(self.cumulative))

    def advance(self, steps: int, weights: Optional[Tensor] = None) -> "AttentionState":
        """The state after `steps` more decoder steps; `weights` (batch, src_len) the last one's, when tracked."""
        if weights is None:
            return AttentionState(self.time + steps, self.previous, self.cumulative)
        return AttentionState(self.time + steps, weights, self.cumulative + weights)


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over the last axis of scores (batch, steps, src_len); exactly 0 where mask (batch, src_len) is False."""
    scores = scores.float().masked_fill(~mask[:, None, :], float("-inf"))   # fp32 even when products run in bf16
    return torch.softmax(scores, dim=-1)


class Attention(nn.Module):
    stateful = False   # True: each step's scores depend on the previous weights (no fused multi-step pass)

    def prepare(self, keys: Tensor) -> Optional[Tensor]:
        """Per-batch cache computed from keys (batch, src_len, memory_size); None when there is nothing to cache."""
        return None

    def initial_state(self, memory: "Memory") -> AttentionState:
        return AttentionState()

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor], state: AttentionState) -> Tensor:
        raise NotImplementedError

    def weigh(self, query: Tensor, memory: "Memory", state: AttentionState) -> Tensor:
        """Attention weights (batch, steps, src_len), fp32, 0 on padding."""
        return masked_softmax(self.score(query, memory.states, self._cache(memory), state), memory.mask)

    def _cache(self, memory: "Memory") -> Optional[Tensor]:
        return memory.cache if memory.cache is not None else self.prepare(memory.states)

    def forward(self, query: Tensor, memory: "Memory", state: AttentionState
                ) -> tuple[Tensor, Tensor, AttentionState]:
        weights = self.weigh(query, memory, state)                          # (batch, steps, src_len)
        context = torch.bmm(weights, memory.states)                         # (batch, steps, memory_size)
        return context, weights, state.advance(query.size(1))


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

    def pre_activation(self, query: Tensor, cache: Tensor, state: AttentionState) -> Tensor:
        q = 2 * self.query_proj(query)                                 # (batch, steps, attention_size)
        return q[:, :, None, :] + cache[:, None, :, :]                 # (batch, steps, src_len, attention_size)

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor], state: AttentionState) -> Tensor:
        hidden = torch.sigmoid(self.pre_activation(query, cache, state))  # (batch, steps, src_len, attention_size)
        return 2 * self.v(hidden).squeeze(-1) - self.v.weight.sum()    # (batch, steps, src_len)


class LocationAwareAttention(AdditiveAttention):
    """score(q, k_i, α) = vᵀ tanh(W q + U k_i + L f_i), f = conv1d([α_{t-1}; Σ_{<t} α]) (Chorowski et al. 2015)."""

    stateful = True

    def __init__(self, query_size: int, memory_size: int, attention_size: int, channels: int = 32,
                 kernel_size: int = 31):
        super().__init__(query_size, memory_size, attention_size)
        if kernel_size % 2 == 0:
            raise ValueError(f"location attention kernel size must be odd, got {kernel_size}")
        self.location_conv = nn.Conv1d(2, channels, kernel_size, padding=kernel_size // 2, bias=False)
        self.location_proj = nn.Linear(channels, attention_size, bias=False)

    def initial_state(self, memory: "Memory") -> AttentionState:
        zeros = memory.mask.new_zeros(memory.mask.shape, dtype=torch.float32)   # (batch, src_len)
        return AttentionState(0, zeros, zeros)

    def pre_activation(self, query: Tensor, cache: Tensor, state: AttentionState) -> Tensor:
        if query.size(1) != 1:
            raise ValueError("location-aware attention runs one decoder step at a time")
        history = torch.stack([state.previous, state.cumulative], dim=1)           # (batch, 2, src_len)
        features = self.location_conv(history).transpose(1, 2)                 # (batch, src_len, channels)
        location = 2 * self.location_proj(features)                                # (batch, src_len, attention)
        return super().pre_activation(query, cache, state) + location[:, None, :, :]

    def forward(self, query: Tensor, memory: "Memory", state: AttentionState
                ) -> tuple[Tensor, Tensor, AttentionState]:
        context, weights, _ = super().forward(query, memory, state)
        return context, weights, state.advance(1, weights[:, -1])


class DotAttention(Attention):
    """score(q, k) = qᵀ k (Luong `dot`); query and memory sizes must match."""

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor], state: AttentionState) -> Tensor:
        return torch.bmm(query, keys.transpose(1, 2))  # (batch, steps, src_len)


class GeneralAttention(Attention):
    """score(q, k) = qᵀ W_a k (Luong `general`); W_a k is the per-batch cache."""

    def __init__(self, query_size: int, memory_size: int):
        super().__init__()
        self.key_proj = nn.Linear(memory_size, query_size, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.key_proj(keys)  # (batch, src_len, query_size)

    def score(self, query: Tensor, keys: Tensor, cache: Optional[Tensor], state: AttentionState) -> Tensor:
        return torch.bmm(query, cache.transpose(1, 2))  # (batch, steps, src_len)


class LocalAttention(Attention):
    """Luong local attention around p_t with half-width `window` (D), over any content score function."""

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

    def centres(self, query: Tensor, mask: Tensor, time: Tensor) -> Tensor:
        """p_t (batch, steps): the aligned source position of each query; time (steps,) their step indices."""
        length = mask.sum(dim=1).to(query.dtype)                                    # (batch,) real source length
        if self.kind == "local-m":
            t = time.to(query.dtype)[None, :]                                       # (1, steps)
            return torch.minimum(t, (length - 1)[:, None])                          # (batch, steps)
        gate = torch.sigmoid(self.position_v(torch.tanh(self.position_proj(query)))).squeeze(-1)  # (batch, steps)
        return length[:, None] * gate

    def weigh(self, query: Tensor, memory: "Memory", state: AttentionState) -> Tensor:
        keys, mask = memory.states, memory.mask
        scores = self.scorer.score(query, keys, self._cache(memory), state)        # (batch, steps, src_len)
        # (steps,) step indices; state.time an int, or a tensor (1,) in an exported step graph
        time = state.time + torch.arange(query.size(1), device=query.device)
        p = self.centres(query, mask, time)                                         # (batch, steps)
        positions = torch.arange(keys.size(1), device=keys.device, dtype=query.dtype)
        distance = positions[None, None, :] - p[:, :, None]                         # (batch, steps, src_len)
        inside = (distance.abs() <= self.window) & mask[:, None, :]                 # (batch, steps, src_len)
        if self.kind == "local-p":
            sigma = self.window / 2.0
            scores = scores - distance.pow(2) / (2 * sigma * sigma)
        return torch.softmax(scores.float().masked_fill(~inside, float("-inf")), dim=-1)  # 0 outside the window


def _location(query_size: int, memory_size: int, attention_size: int, location: tuple[int, int]) -> Attention:
    channels, kernel = location
    return LocationAwareAttention(query_size, memory_size, attention_size, channels, kernel)


SCORE_CLASSES = {       # config/scores.py's names → (query, memory, attention size, (channels, kernel)) → the score
    "additive": lambda q, m, a, loc: AdditiveAttention(q, m, a),
    "concat": lambda q, m, a, loc: AdditiveAttention(q, m, a),
    "dot": lambda q, m, a, loc: DotAttention(),
    "general": lambda q, m, a, loc: GeneralAttention(q, m),
    "location": _location,
}


def build_attention(kind: str, query_size: int, memory_size: int, attention_size: int,
                    alignment: str = "global", window: int = 10, location: tuple[int, int] = (32, 31)) -> Attention:
    """kind: a score of config/scores.py; alignment: global, local-m or local-p (window D); location: the location
    score's (channels, kernel width)."""
    if kind not in SCORE_CLASSES:
        raise ValueError(f"unknown attention score {kind!r}")
    score = SCORE_CLASSES[kind](query_size, memory_size, attention_size, location)
    if alignment == "global":
        return score
    if score.stateful:
        raise ValueError("local attention takes a content score (dot, general, concat), not location")
    return LocalAttention(score, alignment, window, query_size, attention_size)
