"""Search over `Decoder.step`: batched greedy and beam search.

Both run the same `Decoder.step` that training uses. Sentences that finish leave the active batch, so the cost of a
step follows the sentences still running.
"""

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
    attention: Optional[Tensor]       # (steps, src_len) or None; steps = len(tokens) + 1 if finished else len(tokens)
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


def length_penalty(length: Tensor | int, alpha: float):
    """GNMT length penalty ((5 + length) / 6) ** alpha; alpha = 0 turns normalisation off."""
    return ((5.0 + length) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, src_lengths: Tensor, src_mask: Tensor, max_len: Tensor,
                beam_size: int, alpha: float = 0.0, n_best: int = 1) -> list[list[Hypothesis]]:
    """Batched beam search: every sentence x beam is one row of one tensor.

    Returns, per sentence, up to `n_best` hypotheses sorted by score / length_penalty (best first). The encoder
    runs once; its memory is expanded to the beams once. A sentence stops when `beam_size` hypotheses have ended
    with EOS, or at its length limit (then the live beams are returned as unfinished). With beam_size 1 this is
    exactly greedy search.
    """
    decoder, K, device = model.decoder, beam_size, src.device
    B = src.size(0)
    memory = decoder.prepare(model.encode(src, src_lengths, src_mask))
    rows = torch.arange(B, device=device).repeat_interleave(K)          # (B*K,) sentence of each row
    memory, state = memory.select(rows), decoder.init_state(memory).select(rows)
    y = torch.full((B * K,), BOS, dtype=torch.long, device=device)
    scores = torch.zeros(B, K, device=device)
    scores[:, 1:] = float("-inf")                                        # all beams start as one
    history = torch.empty(B * K, 0, dtype=torch.long, device=device)     # (rows, t) tokens so far
    attn_history: Optional[Tensor] = None                                # (rows, t, src_len)
    active = torch.arange(B, device=device)                              # original index of each live sentence
    limits = max_len.to(device)
    finished: list[list[tuple[float, Hypothesis]]] = [[] for _ in range(B)]
    for t in range(int(max_len.max())):
        n = active.numel()
        out, state, weights = decoder.step(y, state, memory)
        logp = torch.log_softmax(decoder.generator(out), dim=-1)         # (n*K, vocab)
        vocab = logp.size(-1)
        cand = (scores.unsqueeze(-1) + logp.view(n, K, vocab)).view(n, K * vocab)
        top_scores, top_idx = cand.topk(min(2 * K, K * vocab), dim=1)    # (n, 2K) best first
        beam, token = top_idx // vocab, top_idx % vocab
        source_row = (torch.arange(n, device=device) * K).unsqueeze(1) + beam  # (n, 2K) row each came from
        if weights is not None:
            step_attn = weights.unsqueeze(1)                             # (n*K, 1, src_len)
            attn_full = step_attn if attn_history is None else torch.cat([attn_history, step_attn], 1)
        # hypotheses that end here: EOS among the top K candidates
        is_eos = (token == EOS) & torch.isfinite(top_scores)
        is_eos[:, K:] = False
        at_limit = (t + 1 >= limits[active])                             # (n,)
        for i, j in is_eos.nonzero().tolist():
            r = int(source_row[i, j])
            hyp = Hypothesis(history[r].tolist(), float(top_scores[i, j]),
                             None if weights is None else attn_full[r].cpu(), True)
            finished[int(active[i])].append((float(top_scores[i, j]) / length_penalty(t + 1, alpha), hyp))
        # the K best candidates that go on (non-EOS, in rank order)
        order = torch.argsort((token == EOS).int(), dim=1, stable=True)[:, :K]  # (n, K)
        keep_scores = top_scores.gather(1, order)
        keep_rows = source_row.gather(1, order).view(-1)                 # (n*K,)
        keep_tokens = token.gather(1, order).view(-1)
        history = torch.cat([history[keep_rows], keep_tokens.unsqueeze(1)], dim=1)
        if weights is not None:
            attn_history = attn_full[keep_rows]
        state, y, scores = state.select(keep_rows), keep_tokens, keep_scores
        done = at_limit.clone()
        for i in range(n):
            if len(finished[int(active[i])]) >= K:
                done[i] = True
            elif at_limit[i]:                                            # cut at the limit: live beams, unfinished
                for k in range(K):
                    if torch.isfinite(scores[i, k]):
                        r = i * K + k
                        hyp = Hypothesis(history[r].tolist(), float(scores[i, k]),
                                         None if attn_history is None else attn_history[r].cpu(), False)
                        finished[int(active[i])].append((float(scores[i, k]) / length_penalty(t + 1, alpha), hyp))
        if bool(done.all()):
            break
        if bool(done.any()):
            live = (~done).nonzero().squeeze(1)                          # (n',)
            live_rows = (live.unsqueeze(1) * K + torch.arange(K, device=device)).view(-1)
            active, scores, y = active[live], scores[live], y[live_rows]
            state, memory, history = state.select(live_rows), memory.select(live_rows), history[live_rows]
            if attn_history is not None:
                attn_history = attn_history[live_rows]
    results = []
    for hyps in finished:
        hyps.sort(key=lambda pair: -pair[0])
        results.append([h for _, h in hyps[:n_best]])
    return results


@torch.no_grad()
def decode_all(model: Seq2Seq, sources: list[list[int]], *, batch_size: int, max_len_a: float, max_len_b: int,
               beam_size: int = 1, alpha: float = 0.0, n_best: int = 1, device: str | torch.device = "cpu"
               ) -> list[list[Hypothesis]]:
    """Decode many id sequences in length-sorted batches (greedy for beam_size 1, else beam search).

    Returns, in input order, up to `n_best` (<= beam_size) hypotheses per input, best first; [] for empty input.
    """
    from .data.batching import pad_sources

    was_training = model.training
    model.eval()
    results: list[list[Hypothesis]] = [[] for _ in sources]
    order = sorted((i for i, s in enumerate(sources) if s), key=lambda i: len(sources[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        src, lengths, mask = pad_sources([sources[i] for i in chunk])
        limits = max_lengths(lengths, max_len_a, max_len_b)
        if beam_size == 1:
            nbest = [[h] for h in greedy(model, src.to(device), lengths, mask.to(device), limits)]
        else:
            nbest = beam_search(model, src.to(device), lengths, mask.to(device), limits, beam_size, alpha, n_best)
        for i, hyps in zip(chunk, nbest):
            for hyp in hyps:
                if hyp.attention is not None:
                    hyp.attention = hyp.attention[:, : len(sources[i])].cpu()
            results[i] = hyps
    model.train(was_training)
    return results
