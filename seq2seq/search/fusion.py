"""Joint scoring inside search: the attention decoder's next-token log-probabilities with CTC prefix scores
(`decode.ctc_weight` = λ, Watanabe et al. 2017) and a language model's (`decode.lm_weight` = β, shallow fusion,
Gulcehre et al. 2015) added at every step:

    score(y_t) = (1 − λ)·log P_att(y_t | y_<t, X) + λ·[log P_ctc(y_≤t, X) − log P_ctc(y_<t, X)] + β·log P_LM(y_t | y_<t)

`Fused` is a `Decodable` over an `Ensemble`, so greedy and beam search run unchanged over it, and a hypothesis's
summed scores are (1 − λ)·log P_att + λ·log P_ctc + β·log P_LM of the whole sequence. λ = 0 and β = 0 is the
ensemble itself (search does not wrap it); λ = 1 does not run the attention decoder at all: CTC prefix search.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import torch
from torch import Tensor

from ..errors import UserError
from .ctc_prefix import PrefixState, ctc_log_probs, prefix_start, prefix_step
from .ensemble import Ensemble, State


@dataclass
class FusedState:
    inner: State                            # the ensemble's memories and decoder states
    ctc: Optional[PrefixState]              # the CTC prefix scores of each row, or None (λ = 0)
    lm: Any                                 # the language model's state of each row, or None (β = 0)


class Fused:
    """An ensemble whose next-token scores also carry CTC prefix and language-model scores (module docstring)."""

    def __init__(self, inner: Ensemble, ctc_weight: float = 0.0, lm: Optional[torch.nn.Module] = None,
                 lm_weight: float = 0.0):
        if ctc_weight and not any(m.extra_loss("ctc") is not None for m in inner.models):
            raise UserError(f"decode.ctc_weight={ctc_weight}: this model has no CTC head (train it with "
                            f"model.ctc_weight > 0, or decode with ctc_weight 0)")
        if lm_weight and lm is None:
            raise UserError(f"decode.lm_weight={lm_weight} needs a language model (decode.lm: RUN_DIR, --lm RUN_DIR)")
        self.inner, self.ctc_weight, self.lm, self.lm_weight = inner, ctc_weight, lm, lm_weight

    @property
    def has_attention(self) -> bool:
        return self.inner.has_attention and self.ctc_weight < 1

    @property
    def reduction(self) -> int:
        return self.inner.reduction

    def start(self, src: Tensor, src_lengths: Tensor) -> FusedState:
        inner = self.inner.start(src, src_lengths)
        ctc = prefix_start(self._ctc_log_probs(inner), inner[0][0].lengths) if self.ctc_weight else None
        lm = self.lm.start(src.size(0), src.device) if self.lm_weight else None
        return FusedState(inner, ctc, lm)

    def _ctc_log_probs(self, inner: State) -> Tensor:
        """(batch, mem_len, vocab) mean log-probabilities of the members' CTC heads over their encoder states."""
        logps = [ctc_log_probs(m, memory) for m, (memory, _) in zip(self.inner.models, inner)
                 if m.extra_loss("ctc") is not None]
        return logps[0] if len(logps) == 1 else torch.stack(logps).logsumexp(0) - math.log(len(logps))

    def step(self, y_prev: Tensor, state: FusedState) -> tuple[Tensor, FusedState, Optional[Tensor]]:
        """y_prev (rows,) → joint scores (rows, vocab), the new state, the attention (rows, src_len) or None."""
        inner, ctc, lm, weights, total = state.inner, state.ctc, state.lm, None, None
        if self.ctc_weight < 1:
            logp, inner, weights = self.inner.step(y_prev, inner)              # (rows, vocab)
            total = (1 - self.ctc_weight) * logp
        if ctc is not None:
            increment, ctc = prefix_step(y_prev, ctc)                     # (rows, vocab)
            total = self.ctc_weight * increment if total is None else total + self.ctc_weight * increment
        if lm is not None:
            lm_logp, lm = self.lm.step(y_prev, lm)                             # (rows, vocab)
            total = total + self.lm_weight * lm_logp
        return total, FusedState(inner, ctc, lm), weights

    def memory_lengths(self, state: FusedState) -> list[int]:
        return self.inner.memory_lengths(state.inner)

    def select(self, state: FusedState, rows: Tensor) -> FusedState:
        return _reordered(state, self.inner.select(state.inner, rows), rows)

    def select_decoder(self, state: FusedState, rows: Tensor) -> FusedState:
        return _reordered(state, self.inner.select_decoder(state.inner, rows), rows)

    @contextmanager
    def evaluating(self) -> Iterator["Fused"]:
        with self.inner.evaluating():
            if self.lm is None:
                yield self
                return
            mode = self.lm.training
            self.lm.eval()
            try:
                yield self
            finally:
                self.lm.train(mode)


def _reordered(state: FusedState, inner: State, rows: Tensor) -> FusedState:
    """`state` with the ensemble's part `inner` (already reordered) and the scorers' rows `rows`."""
    return FusedState(inner, None if state.ctc is None else state.ctc.select(rows),
                      None if state.lm is None else state.lm.select(rows))
