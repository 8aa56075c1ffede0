"""Joint CTC/attention rescoring (`decode.ctc_weight` = λ > 0), for a model trained with joint CTC
(`model.ctc_weight`). The candidates of each input are the attention search's n-best (beam_size of them; greedy:
one) and the CTC head's greedy path (argmax per encoder state, repeats merged, blanks dropped). Every candidate is
scored both ways over the whole sequence — the attention decoder teacher-forced on it (log P_att, EOS included) and
CTC's sum over all its alignments (log P_ctc) — and ranked by (1 − λ)·log P_att + λ·log P_ctc. Attention alone
loops or stops early on long inputs; CTC alone is monotonic but blind to the left context: together each vetoes
the other's failures (Watanabe et al. 2017 score prefixes inside the beam; this rescoring of complete hypotheses
is the cheap half of that idea). λ = 0 is the attention search unchanged.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.text.tokenizers import BOS, EOS, PAD
from ..errors import UserError
from ..model.encoder import Memory
from .options import SearchOptions
from .tokens import Hypothesis, decode_all


def ctc_log_probs(model, memory: Memory) -> Tensor:
    """(batch, mem_len, vocab) fp32 log-probabilities of the CTC head over the encoder states (blank = PAD)."""
    return F.log_softmax(model.ctc.projection(memory.states).float(), dim=-1)


def ctc_greedy(log_probs: Tensor, lengths: Tensor) -> list[list[int]]:
    """Best path per row: the argmax of each real state, repeats merged, blanks (PAD) and EOS dropped."""
    paths = []
    for row, n in zip(log_probs.argmax(-1).tolist(), lengths.tolist()):
        merged = [t for i, t in enumerate(row[:n]) if i == 0 or t != row[i - 1]]
        paths.append([t for t in merged if t not in (PAD, EOS, BOS)])
    return paths


def sequence_scores(model, memory: Memory, log_probs: Tensor, rows: Sequence[int],
                    candidates: Sequence[list[int]]) -> tuple[Tensor, Tensor, Optional[Tensor]]:
    """For candidate i of input rows[i]: log P_att (teacher-forced, EOS included), log P_ctc, and the attention
    (candidates, steps, mem_len) or None."""
    index = torch.tensor(list(rows), device=memory.states.device)
    width = max(len(c) for c in candidates) + 1
    tgt_in = torch.full((len(candidates), width), PAD, dtype=torch.long, device=index.device)
    tgt_out = torch.full_like(tgt_in, PAD)
    for i, c in enumerate(candidates):
        tgt_in[i, : len(c) + 1] = torch.tensor([BOS, *c])
        tgt_out[i, : len(c) + 1] = torch.tensor([*c, EOS])
    chosen = memory.select(index)
    out, attention = model.decoder(tgt_in, chosen)                     # (cands, width, output), (cands, width, mem)
    logp = model.head.log_probs(out.flatten(0, 1)).view(*tgt_in.shape, -1)   # (cands, width, vocab), as search
    token_logp = logp.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1).masked_fill(tgt_out == PAD, 0.0)
    targets = tgt_out.masked_fill(tgt_out == EOS, PAD)                 # CTC reads the tokens, not EOS
    ctc = -F.ctc_loss(log_probs.index_select(0, index).transpose(0, 1), targets, chosen.lengths,
                      (targets != PAD).sum(1), blank=PAD, reduction="none", zero_infinity=True)
    return token_logp.sum(1), ctc, attention


def rescore(model, memory: Memory, nbest: list[list[Hypothesis]], opts: SearchOptions) -> list[list[Hypothesis]]:
    """The n-best of each row of `memory` re-ranked with its CTC greedy path added (see the module docstring)."""
    log_probs = ctc_log_probs(model, memory)
    greedy = ctc_greedy(log_probs, memory.lengths)
    rows, candidates = [], []
    for row, (hyps, path) in enumerate(zip(nbest, greedy)):
        for tokens in dict.fromkeys(tuple(t) for t in [*(h.tokens for h in hyps), path]):
            rows.append(row)
            candidates.append(list(tokens))
    att, ctc, attention = sequence_scores(model, memory, log_probs, rows, candidates)
    joint = (1 - opts.ctc_weight) * att + opts.ctc_weight * ctc
    lengths = memory.lengths.tolist()
    out: list[list[Hypothesis]] = [[] for _ in nbest]
    for i, (row, tokens) in enumerate(zip(rows, candidates)):
        weights = None if attention is None or not opts.attention else attention[i, : len(tokens) + 1, : lengths[row]]
        out[row].append(Hypothesis(tokens, float(joint[i]), None if weights is None else weights.cpu(), True,
                                   float(joint[i])))
    return [sorted(hyps, key=lambda h: -h.rank)[: opts.n_best] for hyps in out]


def decode_joint(model, sources: Sequence, opts: SearchOptions, *, batch_size: int, device: torch.device,
                 collate: Callable) -> list[list[Hypothesis]]:
    """`decode_all`, then each input's candidates rescored with CTC (decode.ctc_weight > 0)."""
    if getattr(model, "extra_loss", lambda name: None)("ctc") is None:
        raise UserError(f"decode.ctc_weight={opts.ctc_weight}: this model has no CTC head (train it with "
                        f"model.ctc_weight > 0, or decode with ctc_weight 0)")
    nbest = decode_all(model, sources, opts.model_copy(update={"n_best": opts.beam_size}), batch_size=batch_size,
                       device=device, collate=collate)
    results: list[list[Hypothesis]] = [[] for _ in sources]
    order = [i for i in sorted(range(len(sources)), key=lambda i: len(sources[i])) if len(sources[i])]
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            src, lengths, _ = collate([sources[i] for i in chunk])
            memory = model.encode(src.to(device), lengths)
            for i, hyps in zip(chunk, rescore(model, memory, [nbest[i] for i in chunk], opts)):
                results[i] = hyps
    return results
