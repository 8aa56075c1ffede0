"""Guided attention (Tachibana et al. 2017): a training loss that penalises attention far from the diagonal.

Text and speech advance together, so decoder step t of T should attend near input position n ≈ t·N/T. Each weight
a[t, n] costs a · (1 − exp(−(n/N − t/T)² / 2g²)): nothing on the diagonal, up to its whole mass far from it. Small
synthesis data rarely finds the alignment alone; this prior gets it there early and fades as the weights follow it.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ..data.batching import Batch
from .encoder import Memory


def diagonal_penalty(steps: Tensor, positions: Tensor, width: int, length: int, g: float) -> Tensor:
    """(batch, steps_max, mem_max) cost of each cell, 0 outside the real steps and positions."""
    t = torch.arange(width, device=steps.device)[None, :, None] / steps[:, None, None]         # (batch, steps, 1)
    n = torch.arange(length, device=steps.device)[None, None, :] / positions[:, None, None]    # (batch, 1, mem)
    cost = 1 - torch.exp(-((n - t) ** 2) / (2 * g * g))
    real = (t < 1) & (n < 1)                 # t/T < 1 exactly on real steps, n/N < 1 on real positions
    return cost * real


def guided_attention_loss(weights: Tensor, step_mask: Tensor, memory_lengths: Tensor, g: float = 0.2) -> Tensor:
    """Summed over the batch's real decoder steps (each step's share is at most 1, as its weights sum to 1).
    weights (batch, steps, mem_len); step_mask (batch, steps) True on real steps; memory_lengths (batch,)."""
    steps = step_mask.sum(1).clamp(min=1).to(weights.dtype)                  # (batch,)
    positions = memory_lengths.to(weights.device).clamp(min=1).to(weights.dtype)
    penalty = diagonal_penalty(steps, positions, weights.size(1), weights.size(2), g)
    return (weights * penalty).sum()


class GuidedAttention(nn.Module):
    """An extra loss (model/losses.py): the head's loss + weight · the guided attention loss of the decoder's own
    attention (nothing to add for a decoder without attention)."""

    name = "guided_attention"

    def __init__(self, weight: float, width: float = 0.2):
        super().__init__()
        self.weight, self.width = weight, width

    def combine(self, loss: Tensor, memory: Memory, attention: Optional[Tensor], batch: Batch) -> Tensor:
        if attention is None:                                          # attention (batch, tgt_len, mem_len)
            return loss
        return loss + self.weight * guided_attention_loss(attention, batch.tgt_mask, memory.lengths, self.width)
