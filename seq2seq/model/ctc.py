"""Joint CTC (Watanabe et al. 2017): a second, alignment-free loss on the encoder states, added to the attention
decoder's loss during training. Connectionist temporal classification sums over every monotonic alignment of the
transcript to the encoder states, so it pushes the encoder towards a left-to-right alignment — what small-data
attention recognisers often fail to find on their own. Blank is the PAD id, which is never a target token."""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from ..data.batching import Batch
from ..data.text.tokenizers import EOS, PAD
from .encoder import Memory


class CTCHead(nn.Module):
    """An extra loss (model/losses.py): the training loss is (1 − weight) · attention loss + weight · CTC loss."""

    name = "ctc"

    def __init__(self, memory_size: int, vocab_size: int, weight: float):
        super().__init__()
        self.projection = nn.Linear(memory_size, vocab_size)
        self.weight = weight                                # λ in (0, 1)

    def combine(self, loss: Tensor, memory: Memory, attention: Optional[Tensor], batch: Batch,
                step: int = 0) -> Tensor:
        return (1 - self.weight) * loss + self.weight * self.loss(memory, batch)

    def loss(self, memory: Memory, batch: Batch) -> Tensor:
        """CTC loss of the batch's transcripts (EOS and padding left out), summed over the batch."""
        log_probs = F.log_softmax(self.projection(memory.states).float(), dim=-1)   # (batch, mem_len, vocab)
        targets = batch.tgt_out.masked_fill(batch.tgt_out == EOS, PAD)              # (batch, tgt_len)
        target_lengths = (targets != PAD).sum(1)                                     # (batch,)
        return F.ctc_loss(log_probs.transpose(0, 1), targets, memory.lengths, target_lengths, blank=PAD,
                          reduction="sum", zero_infinity=True)
