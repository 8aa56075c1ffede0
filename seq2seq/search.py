"""Search over `Decoder.step`: batched greedy and beam search, for one model or an ensemble.

Both run the same `Decoder.step` that training uses (through `Ensemble.step`). Every sentence × beam is one row of
one tensor; the encoders run once per batch and their states are index-selected, never recomputed. Sentences that
finish leave the active batch, so the cost of a step follows the sentences still running. Per-sentence Python work
happens only when a hypothesis ends (an event per hypothesis), never per step.

Ranking (beam search and n-best lists), as in GNMT (Wu et al. 2016):
    rank(Y) = log P(Y|X) / lp(Y) + cp(X, Y)
    lp(Y) = ((5 + |Y|) / 6) ** alpha                     |Y| counts EOS; alpha = 0: no length normalisation
    cp = beta * sum over real source positions i of log(min(sum_t a_{t,i}, 1))   (coverage; beta = 0: off)
Coverage below 1e-6 is clamped there (a position never attended would otherwise give -inf, e.g. with local
attention). `Hypothesis.score` is always the plain log-probability.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import torch
from torch import Tensor

from .data.tokenizers import BOS, EOS
from .devices import PRECISIONS, precision_context
from .ensemble import Ensemble, State
from .model.seq2seq import Seq2Seq


@dataclass
class Hypothesis:
    tokens: list[int]                 # output ids, EOS excluded
    score: float                      # sum of log-probabilities of the output tokens and EOS
    attention: Optional[Tensor]       # (steps, src_len) or None; steps = len(tokens) + 1 if finished else len(tokens)
    finished: bool                    # ended with EOS (False: hit the length limit)
    rank: float = 0.0                 # what search sorts by: score / lp + cp (see the module docstring)


@dataclass(frozen=True)
class SearchOptions:
    beam_size: int = 1                # 1 = greedy search
    n_best: int = 1                   # hypotheses returned per input (<= beam_size)
    alpha: float = 0.0                # GNMT length normalisation; 0 = off
    beta: float = 0.0                 # GNMT coverage penalty; 0 = off (needs attention)
    max_len_a: float = 1.5            # output limit (EOS included) = a * source length + b ...
    max_len_b: int = 10
    max_len: Optional[int] = None     # ... and never more than this
    min_len: int = 0                  # EOS is forbidden before this many output tokens
    no_repeat_ngram: int = 0          # forbid repeating any n-gram of this size in one output; 0 = off
    greedy_fallback: bool = True      # beam search also follows the greedy path and keeps it when it ranks higher
    attention: bool = True            # keep each hypothesis's attention matrix (always kept when beta > 0)
    stop_early: bool = True           # beam: a sentence also stops once no live beam can outrank its n-best
    precision: str = "fp32"           # bf16: matrix products in bfloat16 under autocast (devices.PRECISIONS)

    def __post_init__(self):
        for name in ("beam_size", "n_best"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_best > self.beam_size:
            raise ValueError(f"n_best ({self.n_best}) cannot exceed beam_size ({self.beam_size})")
        for name in ("alpha", "beta", "max_len_a", "min_len", "no_repeat_ngram"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.max_len is not None and self.max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {self.max_len}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")


def search_options(decode, **overrides) -> SearchOptions:
    """SearchOptions from a `DecodeConfig`, with keyword overrides (None values keep the config's)."""
    fields = {f: getattr(decode, f) for f in SearchOptions.__dataclass_fields__ if hasattr(decode, f)}
    unknown = set(overrides) - set(SearchOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown search option(s): {', '.join(sorted(unknown))}")
    fields.update({k: v for k, v in overrides.items() if v is not None})
    fields["beam_size"] = max(fields["beam_size"], fields.get("n_best", 1))   # the beam is widened to n_best
    return SearchOptions(**fields)


def max_lengths(src_lengths: Tensor, a: float, b: int, cap: Optional[int] = None) -> Tensor:
    """Output limit per sentence (EOS included): a * source length + b, at most `cap`."""
    limits = (src_lengths.float() * a).floor().long() + b
    return limits if cap is None else limits.clamp(max=cap)


def length_penalty(length: Tensor | int, alpha: float):
    """GNMT length penalty ((5 + length) / 6) ** alpha; alpha = 0 turns normalisation off."""
    return ((5.0 + length) / 6.0) ** alpha


def coverage_penalty(attention: Optional[Tensor], src_len: int, beta: float) -> float:
    """beta * sum_i log(min(sum_t a_ti, 1)) over the real source positions; 0 without attention or beta."""
    if beta == 0 or attention is None or attention.numel() == 0:
        return 0.0
    coverage = attention[:, :src_len].sum(0).clamp(min=1e-6, max=1.0)   # (src_len,)
    return beta * float(coverage.log().sum())


def constrain(logp: Tensor, history: Tensor, t: int, opts: SearchOptions) -> Tensor:
    """Forbid what the options rule out at step t. logp (rows, vocab); history (rows, t) tokens so far."""
    if t < opts.min_len:
        logp = logp.clone()
        logp[:, EOS] = float("-inf")
    n = opts.no_repeat_ngram
    if n == 1 and t > 0:
        logp = logp.scatter(1, history, float("-inf"))
    elif n > 1 and t >= n:
        windows = history.unfold(1, n, 1)                                  # (rows, t - n + 1, n) every n-gram so far
        prefix = history[:, t - n + 1 :]                                   # (rows, n - 1) the n-gram being formed
        match = (windows[:, :, :-1] == prefix[:, None, :]).all(-1)        # (rows, t - n + 1)
        hits = torch.zeros_like(logp).scatter_add_(1, windows[:, :, -1], match.to(logp.dtype))
        logp = logp.masked_fill(hits > 0, float("-inf"))
    return logp


def as_ensemble(model: Seq2Seq | Ensemble) -> Ensemble:
    return model if isinstance(model, Ensemble) else Ensemble([model])


def _attention_rows(history: Optional[Tensor], step: Optional[Tensor]) -> Optional[Tensor]:
    # history (rows, t, src_len) + step (rows, src_len) → (rows, t + 1, src_len)
    if step is None:
        return None
    step = step.unsqueeze(1)
    return step if history is None else torch.cat([history, step], dim=1)


def _finish(tokens: Tensor, score: float, attention: Optional[Tensor], finished: bool, src_len: int,
            opts: SearchOptions) -> Hypothesis:
    ids = tokens.tolist()
    if finished:
        ids = ids[:-1]                                                     # the EOS
    attention = None if attention is None else attention.cpu()
    steps = len(ids) + finished
    rank = score / length_penalty(steps, opts.alpha) + coverage_penalty(attention, src_len, opts.beta)
    return Hypothesis(ids, score, attention, finished, rank)


@torch.no_grad()
def greedy(model: Seq2Seq | Ensemble, src: Tensor, src_lengths: Tensor, src_mask: Tensor, max_len: Tensor,
           opts: SearchOptions = SearchOptions(), states: Optional[State] = None) -> list[Hypothesis]:
    """Greedy decoding of a padded batch; src (batch, src_len), max_len (batch,) steps allowed per sentence.

    states: the ensemble's start states when the caller already ran the encoders (beam search's greedy fallback).
    """
    ens = as_ensemble(model)
    device, batch = src.device, src.size(0)
    if states is None:
        states = ens.start(src, src_lengths, src_mask)
    lengths = src_mask.sum(1).tolist()
    y = torch.full((batch,), BOS, dtype=torch.long, device=device)
    active = torch.arange(batch, device=device)                          # (n,) original row of each live sentence
    limits = max_len.to(device)
    history = torch.empty(batch, 0, dtype=torch.long, device=device)     # (n, t) tokens so far
    scores = torch.zeros(batch, device=device)                           # (n,)
    attention: Optional[Tensor] = None                                   # (n, t, src_len)
    keep_attention = opts.attention or opts.beta > 0
    results: list[Optional[Hypothesis]] = [None] * batch
    for t in range(int(max_len.max())):
        logp, states, weights = ens.step(y, states)                      # (n, vocab)
        best, y = constrain(logp, history, t, opts).max(dim=-1)          # (n,), (n,)
        scores = scores + best
        history = torch.cat([history, y.unsqueeze(1)], dim=1)
        if keep_attention:
            attention = _attention_rows(attention, weights)
        ended = (y == EOS) | (t + 1 >= limits[active])                   # (n,)
        if not bool(ended.any()):
            continue
        for k in ended.nonzero().squeeze(1).tolist():
            row = int(active[k])
            results[row] = _finish(history[k], float(scores[k]), None if attention is None else attention[k],
                                   bool(y[k] == EOS), lengths[row], opts)
        live = (~ended).nonzero().squeeze(1)                             # (n',)
        if live.numel() == 0:
            break
        active, y, scores, history = active[live], y[live], scores[live], history[live]
        states = ens.select(states, live)
        if attention is not None:
            attention = attention[live]
    return results  # type: ignore[return-value]


@torch.no_grad()
def beam_search(model: Seq2Seq | Ensemble, src: Tensor, src_lengths: Tensor, src_mask: Tensor, max_len: Tensor,
                opts: SearchOptions) -> list[list[Hypothesis]]:
    """Batched beam search: every sentence x beam is one row of one tensor.

    Returns, per sentence, up to `opts.n_best` distinct hypotheses sorted by rank (best first). A sentence stops
    when `beam_size` hypotheses have ended with EOS, or at its length limit (then the live beams are returned as
    unfinished), or (stop_early) as soon as no live beam can outrank its n_best finished hypotheses any more —
    which returns the same n-best list with fewer steps. With beam_size 1 this is exactly greedy search.

    Greedy fallback: the beam tracks the greedy path (the argmax extension of the greedy prefix) while it stays in
    the beam. For the few sentences where the beam prunes it, or stops while it is still running and could still
    outrank what was found, greedy search runs afterwards on those sentences alone (encoder states reused) and its
    hypothesis joins the list when it ranks higher. So beam search never returns a worse best hypothesis than
    greedy search, for little extra work.
    """
    ens = as_ensemble(model)
    K, device, B = opts.beam_size, src.device, src.size(0)
    start = ens.start(src, src_lengths, src_mask)
    lengths = src_mask.sum(1).tolist()
    rows = torch.arange(B, device=device).repeat_interleave(K)          # (B*K,) sentence of each row
    states = ens.select(start, rows)
    y = torch.full((B * K,), BOS, dtype=torch.long, device=device)
    scores = torch.zeros(B, K, device=device)                            # (n, K) log-probability of each beam
    scores[:, 1:] = float("-inf")                                        # all beams start as one
    history = torch.empty(B * K, 0, dtype=torch.long, device=device)     # (n*K, t) tokens so far
    attention: Optional[Tensor] = None                                   # (n*K, t, src_len)
    keep_attention = opts.attention or opts.beta > 0
    active = torch.arange(B, device=device)                              # (n,) original index of each live sentence
    limits = max_len.to(device)
    n_finished = torch.zeros(B, dtype=torch.long, device=device)         # (B,) hypotheses ended with EOS
    finished: list[list[Hypothesis]] = [[] for _ in range(B)]
    # rank of each sentence's n_best-th finished hypothesis (-inf until it has n_best): what a live beam must beat
    nth_rank = torch.full((B,), float("-inf"), device=device)           # (B,)
    lp_limit = length_penalty(limits.float(), opts.alpha)                # (B,) largest length penalty reachable
    track = opts.greedy_fallback and K > 1
    g_beam = torch.zeros(B, dtype=torch.long, device=device)             # (n,) beam holding the greedy prefix
    g_live = torch.full((B,), track, dtype=torch.bool, device=device)    # (n,) greedy prefix still in the beam
    need_greedy = torch.zeros(B, dtype=torch.bool, device=device)        # (B,) greedy must run for this sentence
    for t in range(int(max_len.max())):
        n = active.numel()
        logp, states, weights = ens.step(y, states)                      # (n*K, vocab)
        logp = constrain(logp, history, t, opts)
        vocab = logp.size(-1)
        cand = (scores.unsqueeze(-1) + logp.view(n, K, vocab)).view(n, K * vocab)
        top_scores, top_idx = cand.topk(min(2 * K, K * vocab), dim=1)    # (n, 2K) best first
        beam, token = top_idx // vocab, top_idx % vocab
        source_row = (torch.arange(n, device=device) * K).unsqueeze(1) + beam  # (n, 2K) row each came from
        attention_full = _attention_rows(attention, weights) if keep_attention else None  # (n*K, t+1, src_len)
        paths = torch.cat([history[source_row.view(-1)], token.view(-1, 1)], 1).view(n, -1, t + 1)  # (n, 2K, t+1)
        # hypotheses that end here: EOS among the top K candidates (an event per hypothesis)
        is_eos = (token == EOS) & torch.isfinite(top_scores)
        is_eos[:, K:] = False
        if bool(is_eos.any()):
            n_finished[active] += is_eos.sum(1)
            for i, j in is_eos.nonzero().tolist():
                sentence = int(active[i])
                att = None if attention_full is None else attention_full[int(source_row[i, j])]
                finished[sentence].append(_finish(paths[i, j], float(top_scores[i, j]), att, True,
                                                  lengths[sentence], opts))
            if opts.stop_early:
                for sentence in set(active[is_eos.any(1)].tolist()):
                    ranks = sorted((h.rank for h in finished[sentence]), reverse=True)
                    if len(ranks) >= opts.n_best:
                        nth_rank[sentence] = ranks[opts.n_best - 1]
        # the K best candidates that go on (non-EOS, in rank order)
        order = torch.argsort((token == EOS).int(), dim=1, stable=True)[:, :K]  # (n, K)
        if track:
            g_token = logp.view(n, K, vocab)[torch.arange(n, device=device), g_beam].max(dim=-1)[1]   # (n,)
            g_flat = (g_beam * vocab + g_token).unsqueeze(1)                                            # (n, 1)
            ended_in_beam = (g_token == EOS) & ((top_idx[:, :K] == g_flat) & is_eos[:, :K]).any(1)
            kept = top_idx.gather(1, order) == g_flat                    # (n, K) where the greedy path went on
            lost = g_live & ~ended_in_beam & ~kept.any(1)
            need_greedy[active[lost]] = True
            g_live = g_live & kept.any(1)
            g_beam = kept.int().argmax(1)
        scores = top_scores.gather(1, order)
        keep_rows = source_row.gather(1, order).view(-1)                 # (n*K,)
        y = token.gather(1, order).view(-1)
        history = paths.gather(1, order.unsqueeze(-1).expand(-1, -1, t + 1)).view(n * K, t + 1)
        if attention_full is not None:
            attention = attention_full[keep_rows]
        # beams move only within their sentence, so the encoder memory stays as it is: reorder decoder states only
        states = ens.select_decoder(states, keep_rows)
        at_limit = t + 1 >= limits[active]                               # (n,)
        full = n_finished[active] >= K                                   # (n,)
        if opts.stop_early:
            # a live beam's rank can at best become score / lp(limit): log-probabilities only fall, the length
            # penalty grows at most to the limit's, and the coverage penalty is <= 0. When no live beam can beat
            # the n-best finished hypotheses, more steps cannot change what this sentence returns.
            best_possible = (scores / lp_limit[active].unsqueeze(1)).max(1)[0]   # (n,)
            full = full | (best_possible < nth_rank[active])
        cut = at_limit & ~full                                           # stopped by the limit: live beams count
        for i in cut.nonzero().squeeze(1).tolist():
            sentence = int(active[i])
            for k in torch.isfinite(scores[i]).nonzero().squeeze(1).tolist():
                r = i * K + k
                finished[sentence].append(_finish(history[r], float(scores[i, k]),
                                                  None if attention is None else attention[r], False,
                                                  lengths[sentence], opts))
        if track:   # stopping with the greedy path still running: can it still outrank what was found?
            open_path = full & g_live
            for i in open_path.nonzero().squeeze(1).tolist():
                sentence = int(active[i])
                # its score can only fall; its length penalty can grow at most to the limit's; coverage cp <= 0
                bound = float(scores[i, g_beam[i]]) / length_penalty(int(limits[sentence]), opts.alpha)
                if bound > max(h.rank for h in finished[sentence]):
                    need_greedy[sentence] = True
        done = at_limit | full
        if bool(done.all()):
            break
        if bool(done.any()):
            live = (~done).nonzero().squeeze(1)                          # (n',)
            live_rows = (live.unsqueeze(1) * K + torch.arange(K, device=device)).view(-1)  # (n'*K,)
            active, scores, y, history = active[live], scores[live], y[live_rows], history[live_rows]
            g_beam, g_live = g_beam[live], g_live[live]
            states = ens.select(states, live_rows)
            if attention is not None:
                attention = attention[live_rows]
    if bool(need_greedy.any()):
        redo = need_greedy.nonzero().squeeze(1)                          # (m,) sentences whose greedy path was lost
        subset = greedy(ens, src[redo], src_lengths[redo.cpu()], src_mask[redo], max_len[redo.cpu()], opts,
                        states=ens.select(start, redo))
        for sentence, g in zip(redo.tolist(), subset):
            if all(h.tokens != g.tokens or h.finished != g.finished for h in finished[sentence]):
                finished[sentence].append(g)
    results = []
    for hyps in finished:
        hyps.sort(key=lambda h: -h.rank)
        results.append(hyps[: opts.n_best])
    return results


@torch.no_grad()
def decode_all(model: Seq2Seq | Ensemble, sources: Sequence[Sequence[int]], opts: SearchOptions, *,
               batch_size: int, device: str | torch.device = "cpu") -> list[list[Hypothesis]]:
    """Decode many id sequences in length-sorted batches (greedy for beam_size 1, else beam search).

    Returns, in input order, up to `opts.n_best` hypotheses per input, best first; [] for an empty input.
    """
    from .data.batching import pad_sources

    ens = as_ensemble(model)
    was_training = [m.training for m in ens.models]
    ens.eval()
    results: list[list[Hypothesis]] = [[] for _ in sources]
    order = sorted((i for i, s in enumerate(sources) if s), key=lambda i: len(sources[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        src, lengths, mask = pad_sources([sources[i] for i in chunk])
        limits = max_lengths(lengths, opts.max_len_a, opts.max_len_b, opts.max_len)
        src, mask = src.to(device), mask.to(device)
        with precision_context(opts.precision, device):
            if opts.beam_size == 1:
                nbest = [[h] for h in greedy(ens, src, lengths, mask, limits, opts)]
            else:
                nbest = beam_search(ens, src, lengths, mask, limits, opts)
        for i, hyps in zip(chunk, nbest):
            results[i] = [h if h.attention is None else replace(h, attention=h.attention[:, : len(sources[i])])
                          for h in hyps]
    for model_, mode in zip(ens.models, was_training):
        model_.train(mode)
    return results
