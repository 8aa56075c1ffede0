"""Search over `Decoder.step`: batched greedy decoding (beam search comes with the beam-search issue)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from .data.tokenizers import BOS, EOS
from .model.seq2seq import Seq2Seq


@dataclass
class Hypothesis:
    tokens: list[int]                 # output ids, EOS excluded
    score: float                      # sum of log-probabilities of the output tokens and EOS
    attention: Optional[Tensor]       # (len(tokens) + 1 or len(tokens) if cut at the limit, src_len) or None
    finished: bool                    # ended with EOS (False: hit the length limit)


def max_lengths(src_lengths: Tensor, a: float, b: int) -> Tensor:
    """Output limit per sentence (EOS included): a * source length + b."""
    return (src_lengths.float() * a).floor().long() + b


@torch.no_grad()
def greedy(model: Seq2Seq, src: Tensor, src_lengths: Tensor, src_mask: Tensor, max_len: Tensor
           ) -> list[Hypothesis]:
    """Greedy decoding of a padded batch; src (batch, src_len), max_len (batch,) steps allowed per sentence.

    Sentences that have finished leave the active batch, so the cost follows the sentences still running.
    """
    decoder = model.decoder
    batch = src.size(0)
    memory = decoder.prepare(model.encode(src, src_lengths, src_mask))
    state = decoder.init_state(memory)
    y = torch.full((batch,), BOS, dtype=torch.long, device=src.device)
    active = torch.arange(batch, device=src.device)               # rows of the original batch still running
    tokens: list[list[int]] = [[] for _ in range(batch)]
    scores = [0.0] * batch
    attns: list[list[Tensor]] = [[] for _ in range(batch)]
    finished = [False] * batch
    limit = max_len.tolist()
    for t in range(int(max_len.max())):
        out, state, weights = decoder.step(y, state, memory)
        logp = torch.log_softmax(decoder.generator(out), dim=-1)   # (active, vocab)
        best, y = logp.max(dim=-1)
        rows = active.tolist()
        ys, bests = y.tolist(), best.tolist()
        keep = []
        for k, row in enumerate(rows):
            scores[row] += bests[k]
            if weights is not None:
                attns[row].append(weights[k])
            if ys[k] == EOS:
                finished[row] = True
            else:
                tokens[row].append(ys[k])
                if t + 1 < limit[row]:
                    keep.append(k)
        if not keep:
            break
        if len(keep) < len(rows):
            idx = torch.tensor(keep, device=src.device)
            active, y, state, memory = active[idx], y[idx], state.select(idx), memory.select(idx)
    return [Hypothesis(tokens[i], scores[i], torch.stack(attns[i]) if attns[i] else None, finished[i])
            for i in range(batch)]


@torch.no_grad()
def decode_all(model: Seq2Seq, sources: list[list[int]], *, batch_size: int, max_len_a: float, max_len_b: int,
               device: str | torch.device = "cpu") -> list[Optional[Hypothesis]]:
    """Greedy-decode many id sequences in length-sorted batches; results in input order (None for empty input)."""
    from .data.batching import pad_sources

    was_training = model.training
    model.eval()
    results: list[Optional[Hypothesis]] = [None] * len(sources)
    order = sorted((i for i, s in enumerate(sources) if s), key=lambda i: len(sources[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        src, lengths, mask = pad_sources([sources[i] for i in chunk])
        hyps = greedy(model, src.to(device), lengths, mask.to(device), max_lengths(lengths, max_len_a, max_len_b))
        for i, hyp in zip(chunk, hyps):
            if hyp.attention is not None:
                hyp.attention = hyp.attention[:, : len(sources[i])].cpu()
            results[i] = hyp
    model.train(was_training)
    return results
