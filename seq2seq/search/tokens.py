"""Token search over `Decoder.step`: batched greedy and beam search, for one model or an ensemble.

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

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

from ..data.text.tokenizers import BOS, EOS
from ..devices import precision_context
from ..errors import UserError
from ..model.seq2seq import Seq2Seq
from .ensemble import Decodable, Ensemble, State
from .options import SearchOptions

DEFAULTS = SearchOptions()          # greedy's options when a caller gives none (frozen: safe to share)


@dataclass
class Hypothesis:
    tokens: list[int]                 # output ids, EOS excluded
    score: float                      # sum of log-probabilities of the output tokens and EOS
    attention: Optional[Tensor]       # (steps, src_len) or None; steps = len(tokens) + 1 if finished else len(tokens)
    finished: bool                    # ended with EOS (False: hit the length limit)
    rank: float = 0.0                 # what search sorts by: score / lp + cp (see the module docstring)


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


def as_ensemble(model: Seq2Seq | Decodable) -> Decodable:
    """A model as a one-member `Ensemble`; an ensemble or another `Decodable` (onnxruntime) as it is."""
    return Ensemble([model]) if isinstance(model, torch.nn.Module) else model


def fused(ens: Decodable, opts: SearchOptions, lm: Optional[torch.nn.Module] = None) -> Decodable:
    """`ens` with CTC prefix and language-model scores added when opts.ctc_weight / opts.lm_weight ask for them."""
    if not (opts.ctc_weight or opts.lm_weight):
        return ens
    from .fusion import Fused

    if not isinstance(ens, Ensemble):
        raise UserError("decode.ctc_weight and decode.lm_weight need the PyTorch model (not an exported graph)")
    return Fused(ens, opts.ctc_weight, lm, opts.lm_weight)


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
    attention = None if attention is None else attention[:, :src_len].cpu()   # the memory's real positions
    steps = len(ids) + finished
    rank = score / length_penalty(steps, opts.alpha) + coverage_penalty(attention, src_len, opts.beta)
    return Hypothesis(ids, score, attention, finished, rank)


@torch.no_grad()
def greedy(model: Seq2Seq | Decodable, src: Tensor, src_lengths: Tensor, max_len: Tensor,
           opts: SearchOptions = DEFAULTS, states: Optional[State] = None) -> list[Hypothesis]:
    """Greedy decoding of a padded batch; src (batch, src_len[, features]), src_lengths (batch,), max_len (batch,)
    steps allowed per sentence.

    states: the ensemble's start states when the caller already ran the encoders (beam search's greedy fallback).
    """
    ens = as_ensemble(model)
    device, batch = src.device, src.size(0)
    if states is None:
        states = ens.start(src, src_lengths)
    lengths = ens.memory_lengths(states)                                 # real encoder positions per sentence
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


class Ended:
    """The hypotheses beam search has finished, per sentence, and what a live beam must beat to still matter."""

    def __init__(self, sentences: int, lengths: list[int], opts: SearchOptions, device: torch.device):
        self.lists: list[list[Hypothesis]] = [[] for _ in range(sentences)]
        self.lengths, self.opts = lengths, opts                           # real encoder positions per sentence
        self.eos_count = torch.zeros(sentences, dtype=torch.long, device=device)   # (B,) ended with EOS
        # rank of each sentence's n_best-th hypothesis (-inf until it has n_best)
        self.nth_rank = torch.full((sentences,), float("-inf"), device=device)     # (B,)

    def add_eos(self, is_eos: Tensor, paths: Tensor, scores: Tensor, source_row: Tensor,
                attention: Optional[Tensor], active: Tensor) -> None:
        """Candidates ending with EOS (an event per hypothesis). is_eos, scores, source_row (n, 2K); paths
        (n, 2K, t+1); attention (n*K, t+1, src_len) of the rows they came from, or None."""
        self.eos_count[active] += is_eos.sum(1)
        for i, j in is_eos.nonzero().tolist():
            sentence = int(active[i])
            att = None if attention is None else attention[int(source_row[i, j])]
            self.lists[sentence].append(_finish(paths[i, j], float(scores[i, j]), att, True, self.lengths[sentence],
                                                self.opts))
        if self.opts.stop_early:
            for sentence in set(active[is_eos.any(1)].tolist()):
                ranks = sorted((h.rank for h in self.lists[sentence]), reverse=True)
                if len(ranks) >= self.opts.n_best:
                    self.nth_rank[sentence] = ranks[self.opts.n_best - 1]

    def complete(self, active: Tensor, scores: Tensor, lp_limit: Tensor) -> Tensor:
        """(n,) sentences whose n-best list can no longer change: beam_size hypotheses ended, or (stop_early) no
        live beam can outrank the n-best any more — a live beam's rank is at best score / lp(limit), as
        log-probabilities only fall, the length penalty grows at most to the limit's and coverage is <= 0."""
        full = self.eos_count[active] >= scores.size(1)
        if self.opts.stop_early:
            best_possible = (scores / lp_limit.unsqueeze(1)).max(1)[0]    # (n,)
            full = full | (best_possible < self.nth_rank[active])
        return full

    def add_cut(self, cut: Tensor, history: Tensor, scores: Tensor, attention: Optional[Tensor],
                active: Tensor) -> None:
        """Sentences `cut` (n,) at their length limit: their live beams count, unfinished."""
        K = scores.size(1)
        for i in cut.nonzero().squeeze(1).tolist():
            sentence = int(active[i])
            for k in torch.isfinite(scores[i]).nonzero().squeeze(1).tolist():
                r = i * K + k
                self.lists[sentence].append(_finish(history[r], float(scores[i, k]),
                                                    None if attention is None else attention[r], False,
                                                    self.lengths[sentence], self.opts))

    def n_best(self) -> list[list[Hypothesis]]:
        for hyps in self.lists:
            hyps.sort(key=lambda h: -h.rank)
        return [hyps[: self.opts.n_best] for hyps in self.lists]


class GreedyPath:
    """Beam search's greedy fallback: which beam holds the greedy path (the argmax extension of the greedy prefix)
    while it stays in the beam, and which sentences lost it — or stopped while it could still win; greedy search
    runs for those alone afterwards (`rescue`), and its hypothesis joins the list when it ranks higher."""

    def __init__(self, sentences: int, on: bool, device: torch.device):
        self.on = on
        self.beam = torch.zeros(sentences, dtype=torch.long, device=device)      # (n,) beam holding the prefix
        self.live = torch.full((sentences,), on, dtype=torch.bool, device=device)   # (n,) prefix still in the beam
        self.needed = torch.zeros(sentences, dtype=torch.bool, device=device)    # (B,) greedy must run for it

    def follow(self, logp: Tensor, top_idx: Tensor, order: Tensor, is_eos: Tensor, active: Tensor) -> None:
        """After a step: logp (n, K, vocab); top_idx (n, 2K) candidates as beam * vocab + token; order (n, K) the
        candidates that go on; is_eos (n, 2K) those that ended; active (n,) sentence of each row."""
        if not self.on:
            return
        n, K, vocab = logp.shape
        token = logp[torch.arange(n, device=logp.device), self.beam].max(dim=-1)[1]   # (n,) greedy next token
        flat = (self.beam * vocab + token).unsqueeze(1)                               # (n, 1)
        ended_in_beam = (token == EOS) & ((top_idx[:, :K] == flat) & is_eos[:, :K]).any(1)
        kept = top_idx.gather(1, order) == flat                  # (n, K) where the greedy path went on
        lost = self.live & ~ended_in_beam & ~kept.any(1)
        self.needed[active[lost]] = True
        self.live = self.live & kept.any(1)
        self.beam = kept.int().argmax(1)

    def check_stop(self, stopping: Tensor, scores: Tensor, limits: Tensor, active: Tensor,
                   finished: list[list[Hypothesis]], alpha: float) -> None:
        """Sentences stopping (n,) with the greedy path still running: can it still outrank what was found? Its
        score can only fall, its length penalty grow at most to the limit's, and coverage cp <= 0."""
        if not self.on:
            return
        for i in (stopping & self.live).nonzero().squeeze(1).tolist():
            sentence = int(active[i])
            bound = float(scores[i, self.beam[i]]) / length_penalty(int(limits[sentence]), alpha)
            if bound > max(h.rank for h in finished[sentence]):
                self.needed[sentence] = True

    def keep(self, live: Tensor) -> None:
        """Only the sentences `live` (n',) go on."""
        self.beam, self.live = self.beam[live], self.live[live]

    def rescue(self, ens: Decodable, src: Tensor, src_lengths: Tensor, max_len: Tensor, opts: SearchOptions,
               start: State, finished: list[list[Hypothesis]]) -> None:
        if not bool(self.needed.any()):
            return
        redo = self.needed.nonzero().squeeze(1)                  # (m,) sentences whose greedy path was lost
        subset = greedy(ens, src[redo], src_lengths[redo.cpu()], max_len[redo.cpu()], opts,
                        states=ens.select(start, redo))
        for sentence, g in zip(redo.tolist(), subset):
            if all(h.tokens != g.tokens or h.finished != g.finished for h in finished[sentence]):
                finished[sentence].append(g)


@dataclass
class Beams:
    """Beam search's live hypotheses: K rows per live sentence (n of them), each field one tensor."""
    active: Tensor                   # (n,) original index of each live sentence
    scores: Tensor                   # (n, K) log-probability of each beam
    y: Tensor                        # (n*K,) each beam's last token
    history: Tensor                  # (n*K, t) tokens so far
    attention: Optional[Tensor]      # (n*K, t, src_len), or None when not kept
    states: State                    # one row per beam

    @staticmethod
    def first(ens: Decodable, start: State, sentences: int, K: int, device: torch.device) -> "Beams":
        """K copies of each sentence's start; all but the first at -inf, so the K beams start as one."""
        rows = torch.arange(sentences, device=device).repeat_interleave(K)      # (B*K,) sentence of each row
        scores = torch.zeros(sentences, K, device=device)                        # (B, K)
        scores[:, 1:] = float("-inf")
        return Beams(torch.arange(sentences, device=device), scores,
                     torch.full((sentences * K,), BOS, dtype=torch.long, device=device),
                     torch.empty(sentences * K, 0, dtype=torch.long, device=device), None, ens.select(start, rows))

    def keep(self, live: Tensor, ens: Decodable) -> "Beams":
        """Only the sentences `live` (n',) go on, their whole states (encoder memory included) with them."""
        K = self.scores.size(1)
        rows = (live.unsqueeze(1) * K + torch.arange(K, device=live.device)).view(-1)   # (n'*K,)
        return Beams(self.active[live], self.scores[live], self.y[rows], self.history[rows],
                     None if self.attention is None else self.attention[rows], ens.select(self.states, rows))


@dataclass
class Candidates:
    """The 2K best one-token extensions of each live sentence's K beams, best first (2K: K go on even when up to
    K of them end with EOS)."""
    scores: Tensor                   # (n, 2K) log-probability
    flat: Tensor                     # (n, 2K) index among the sentence's K * vocab extensions: beam * vocab + token
    token: Tensor                    # (n, 2K)
    source_row: Tensor               # (n, 2K) the row (n*K) each extends
    paths: Tensor                    # (n, 2K, t+1) its tokens

    @staticmethod
    def of(beams: Beams, logp: Tensor) -> "Candidates":
        # logp (n*K, vocab): the next token's log-probabilities for each beam
        (n, K), vocab, t = beams.scores.shape, logp.size(-1), beams.history.size(1)
        every = (beams.scores.unsqueeze(-1) + logp.view(n, K, vocab)).view(n, K * vocab)
        scores, flat = every.topk(min(2 * K, K * vocab), dim=1)                # (n, 2K)
        token = flat % vocab
        source_row = (torch.arange(n, device=flat.device) * K).unsqueeze(1) + flat // vocab
        paths = torch.cat([beams.history[source_row.view(-1)], token.view(-1, 1)], 1).view(n, -1, t + 1)
        return Candidates(scores, flat, token, source_row, paths)

    def ending(self, K: int) -> Tensor:
        """(n, 2K) the hypotheses that end here: EOS among the top K (an event per hypothesis)."""
        is_eos = (self.token == EOS) & torch.isfinite(self.scores)
        is_eos[:, K:] = False
        return is_eos

    def going_on(self, K: int) -> Tensor:
        """(n, K) the K best candidates that do not end, in rank order."""
        return torch.argsort((self.token == EOS).int(), dim=1, stable=True)[:, :K]

    def beams(self, order: Tensor, active: Tensor, attention: Optional[Tensor], states: State,
              ens: Decodable) -> Beams:
        """The beams `order` (n, K) picks; attention (n*K, t+1, src_len) and states are the stepped rows'."""
        n, K = order.shape
        rows = self.source_row.gather(1, order).view(-1)                       # (n*K,) the row each came from
        paths = self.paths.gather(1, order.unsqueeze(-1).expand(-1, -1, self.paths.size(-1)))   # (n, K, t+1)
        # beams move only within their sentence, so the encoder memory stays as it is: reorder decoder states only
        return Beams(active, self.scores.gather(1, order), self.token.gather(1, order).view(-1),
                     paths.view(n * K, -1), None if attention is None else attention[rows],
                     ens.select_decoder(states, rows))


@torch.no_grad()
def beam_search(model: Seq2Seq | Decodable, src: Tensor, src_lengths: Tensor, max_len: Tensor,
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
    start = ens.start(src, src_lengths)
    beams = Beams.first(ens, start, B, K, device)
    keep_attention = opts.attention or opts.beta > 0
    limits = max_len.to(device)
    ended = Ended(B, ens.memory_lengths(start), opts, device)
    lp_limit = length_penalty(limits.float(), opts.alpha)                # (B,) largest length penalty reachable
    fallback = GreedyPath(B, opts.greedy_fallback and K > 1, device)
    for t in range(int(max_len.max())):
        active = beams.active                                            # (n,)
        logp, states, weights = ens.step(beams.y, beams.states)          # (n*K, vocab)
        logp = constrain(logp, beams.history, t, opts)
        cand = Candidates.of(beams, logp)
        attention = _attention_rows(beams.attention, weights) if keep_attention else None  # (n*K, t+1, src_len)
        is_eos = cand.ending(K)                                          # (n, 2K)
        if bool(is_eos.any()):
            ended.add_eos(is_eos, cand.paths, cand.scores, cand.source_row, attention, active)
        order = cand.going_on(K)                                         # (n, K)
        fallback.follow(logp.view(active.numel(), K, -1), cand.flat, order, is_eos, active)
        beams = cand.beams(order, active, attention, states, ens)
        at_limit = t + 1 >= limits[active]                               # (n,)
        full = ended.complete(active, beams.scores, lp_limit[active])   # (n,)
        ended.add_cut(at_limit & ~full, beams.history, beams.scores, beams.attention, active)   # stopped by the limit
        fallback.check_stop(full, beams.scores, limits, active, ended.lists, opts.alpha)
        done = at_limit | full
        if bool(done.all()):
            break
        if bool(done.any()):
            live = (~done).nonzero().squeeze(1)                          # (n',)
            beams = beams.keep(live, ens)
            fallback.keep(live)
    fallback.rescue(ens, src, src_lengths, max_len, opts, start, ended.lists)
    return ended.n_best()


@torch.no_grad()
def decode_all(model: Seq2Seq | Decodable, sources: Sequence, opts: SearchOptions, *, batch_size: int,
               device: str | torch.device = "cpu", collate: Optional[Callable] = None,
               lm: Optional[torch.nn.Module] = None) -> list[list[Hypothesis]]:
    """Decode many inputs in length-sorted batches (greedy for beam_size 1, else beam search).

    sources: token id lists (the default `collate`, `pad_sources`) or whatever `collate` pads into
    (inputs, lengths, mask) — e.g. feature-frame tensors with `pad_frames`.
    opts.ctc_weight, opts.lm_weight (with `lm`, a `LanguageModel`): joint scores at every step (`fusion.py`).
    Returns, in input order, up to `opts.n_best` hypotheses per input, best first; [] for an empty input.
    """
    from ..data.batching import pad_sources

    collate = collate or pad_sources
    ens = fused(as_ensemble(model), opts, lm)
    results: list[list[Hypothesis]] = [[] for _ in sources]
    order = sorted((i for i, s in enumerate(sources) if len(s)), key=lambda i: len(sources[i]))
    reduction = ens.reduction                              # limits follow encoder states: speech frames are many
    with ens.evaluating():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            src, lengths, _ = collate([sources[i] for i in chunk])
            states = (lengths + reduction - 1) // reduction                  # (batch,) encoder states
            limits = max_lengths(states, opts.max_len_a, opts.max_len_b, opts.max_len)
            if opts.ctc_weight:              # CTC's own bound: a state per token at most (prefix scores do the rest)
                limits = torch.maximum(limits, states + 1)
            src = src.to(device)
            with precision_context(opts.precision, device):
                if opts.beam_size == 1:
                    nbest = [[h] for h in greedy(ens, src, lengths, limits, opts)]
                else:
                    nbest = beam_search(ens, src, lengths, limits, opts)
            for i, hyps in zip(chunk, nbest):
                results[i] = hyps
    return results
