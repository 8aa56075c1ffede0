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


def scheduled(weight: float, width: float, schedule: Optional[tuple[int, int]], step: int) -> tuple[float, float]:
    """(weight, width) at update `step`: as given until schedule[0], then the weight falls linearly to 0 and the
    width widens linearly to twice its value at schedule[1], and the loss is off from there; no schedule: constant."""
    if schedule is None or step <= schedule[0]:
        return weight, width
    start, end = schedule
    if step >= end:
        return 0.0, 2 * width
    progress = (step - start) / (end - start)
    return weight * (1 - progress), width * (1 + progress)


class GuidedAttention(nn.Module):
    """An extra loss (model/losses.py): the head's loss + weight · the guided attention loss of the decoder's own
    attention (nothing to add for a decoder without attention); weight and width optionally scheduled
    (`scheduled`: relaxed, then off, once the alignment holds by itself)."""

    name = "guided_attention"

    def __init__(self, weight: float, width: float = 0.2, schedule: Optional[tuple[int, int]] = None):
        super().__init__()
        self.weight, self.width, self.schedule = weight, width, schedule

    def combine(self, loss: Tensor, memory: Memory, attention: Optional[Tensor], batch: Batch,
                step: int = 0) -> Tensor:
        weight, width = scheduled(self.weight, self.width, self.schedule, step)
        if attention is None or weight == 0:                           # attention (batch, tgt_len, mem_len)
            return loss
        return loss + weight * guided_attention_loss(attention, batch.tgt_mask, memory.lengths, width)
