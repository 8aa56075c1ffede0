"""CTC's own readings of a model trained with joint CTC (`model.ctc_weight`): the head's log-probabilities over
the encoder states, and its best path (`decode.ctc_greedy`: the argmax of each state, repeats merged, blanks
dropped — no attention decoder, no beam). Prefix scores inside greedy and beam search are `ctc_prefix.py`'s,
fused with the attention decoder by `fusion.py` (decode.ctc_weight)."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor

from ..data.text.tokenizers import BOS, EOS, PAD
from ..errors import UserError
from .ctc_prefix import ctc_log_probs
from .tokens import Hypothesis


def best_paths(log_probs: Tensor, lengths: Tensor) -> list[tuple[list[int], float]]:
    """Per row: the best path's tokens (the argmax of each real state, repeats merged, blanks and BOS/EOS dropped)
    and its log-probability (of that one alignment)."""
    best, index = log_probs.max(-1)                                     # (batch, mem_len)
    out = []
    for row, values, n in zip(index.tolist(), best, lengths.tolist()):
        merged = [t for i, t in enumerate(row[:n]) if i == 0 or t != row[i - 1]]
        out.append(([t for t in merged if t not in (PAD, EOS, BOS)], float(values[:n].sum())))
    return out


@torch.no_grad()
def decode_ctc_greedy(model, sources: Sequence, *, batch_size: int, device: torch.device,
                      collate: Callable) -> list[list[Hypothesis]]:
    """The CTC best path of each input, in order ([] for an empty input); no attention matrices."""
    if getattr(model, "extra_loss", lambda name: None)("ctc") is None:
        raise UserError("decode.ctc_greedy: this model has no CTC head (train it with model.ctc_weight > 0)")
    results: list[list[Hypothesis]] = [[] for _ in sources]
    order = [i for i in sorted(range(len(sources)), key=lambda i: len(sources[i])) if len(sources[i])]
    was_training = model.training
    model.eval()
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        src, lengths, _ = collate([sources[i] for i in chunk])
        memory = model.encode(src.to(device), lengths)
        for i, (tokens, score) in zip(chunk, best_paths(ctc_log_probs(model, memory), memory.lengths)):
            results[i] = [Hypothesis(tokens, score, None, True, score)]
    model.train(was_training)
    return results
