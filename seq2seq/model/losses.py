"""Extra training losses a task adds to the head's own: `Seq2Seq(config, frontend, head, losses=[...])`.

Each is a module with a `name` (the attribute it is kept under, so its weights are saved as `NAME.*`) and
`combine(loss, memory, attention, batch, step) -> loss`: the head's loss in, the training loss out (`step`: the
updates done so far, for a loss whose weight is scheduled). They run in training
only — search never calls them. The tasks choose theirs: speech→text joint CTC (`model/ctc.py`), text→speech guided
attention (`model/guided_attention.py`).
"""

from __future__ import annotations

from typing import Optional, Protocol

from torch import Tensor

from ..data.batching import Batch
from .encoder import Memory


class ExtraLoss(Protocol):
    name: str

    def combine(self, loss: Tensor, memory: Memory, attention: Optional[Tensor], batch: Batch,
                step: int = 0) -> Tensor:
        """The training loss: `loss` (the head's, summed over real target positions) with this one mixed in.
        memory: the encoder's states; attention (batch, tgt_len, src_len) or None (a vanilla decoder)."""
        ...
