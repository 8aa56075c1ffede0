"""CTC prefix scores for label-synchronous search (Watanabe et al. 2017, Algorithm 2), batched over every row of a
search step and every token of the vocabulary at once; the only Python loop is over encoder states.

For a prefix g, r_t^n(g) and r_t^b(g) are the log-probabilities that CTC's first t states emit exactly g, the last
of them a non-blank (n) or a blank (b). The prefix score of h = g + c is the probability that some first t states
emit h with state t emitting c — summed over t:

    phi_t   = r_t^b(g) ⊕ (r_t^n(g) if c != last(g) else -inf)     (⊕ = log-add; a repeat needs a blank between)
    r_t^n(h) = (r_{t-1}^n(h) ⊕ phi_{t-1}) + x_t(c)
    r_t^b(h) = (r_{t-1}^b(h) ⊕ r_{t-1}^n(h)) + x_t(blank)
    psi(h)  = ⊕_t phi_{t-1} + x_t(c)

with a virtual t = 0 where the empty prefix has r_0^b = 0. EOS scores the whole sequence, r_T^n(g) ⊕ r_T^b(g):
a hypothesis can only end well once CTC has used up the input (CTC-driven end detection). The score search adds
per token is the increment psi(h) - psi(g), so a hypothesis's summed scores are its CTC prefix log-probability.
Padded states read blank with probability 1 and every other token with 0, which leaves every score of a row as
it is at its own length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.text.tokenizers import BOS, EOS, PAD

BLANK = PAD          # the CTC head's blank is the padding id (model/ctc.py)
NEG_INF = float("-inf")


def ctc_log_probs(model, memory) -> Tensor:
    """(batch, mem_len, vocab) fp32 log-probabilities of a model's CTC head over its encoder states (blank = PAD)."""
    return F.log_softmax(model.ctc.projection(memory.states).float(), dim=-1)


@dataclass
class PrefixState:
    """Per search row: its input's CTC log-probabilities and — for every token c the row may append next — the r
    arrays and the prefix score of g + c, computed by the last step (which c it was is known only at the next
    step's input). Rows move only when search reorders them (`select`), never at every step."""

    x: Tensor                        # (rows, T, vocab); padded states: blank 0, the rest -inf
    next_r: Optional[Tensor] = None  # (rows, T + 1, vocab, 2) r^n, r^b of g + c; None before the first step
    next_psi: Optional[Tensor] = None   # (rows, vocab) prefix log-probability of g + c

    def select(self, rows: Tensor) -> "PrefixState":
        if self.next_r is None:
            return PrefixState(self.x[rows])
        return PrefixState(self.x[rows], self.next_r[rows], self.next_psi[rows])


def prefix_start(log_probs: Tensor, lengths: Tensor) -> PrefixState:
    """The empty prefix of each input: log_probs (batch, T, vocab) of the CTC head over the encoder states,
    lengths (batch,) real states of each."""
    _, T, vocab = log_probs.shape
    real = torch.arange(T, device=log_probs.device)[None, :] < lengths.to(log_probs.device)[:, None]   # (B, T)
    padded = torch.full((vocab,), NEG_INF, device=log_probs.device)
    padded[BLANK] = 0.0
    return PrefixState(torch.where(real[:, :, None], log_probs.float(), padded))      # (batch, T, vocab)


def prefix_step(y_prev: Tensor, state: PrefixState) -> tuple[Tensor, PrefixState]:
    """y_prev (rows,) the token each row's prefix ended with (BOS at the first step) → the increment of the prefix
    score for every next token (rows, vocab), and the state that knows g + c for every c."""
    x = state.x                                                                   # (rows, T, vocab)
    rows, T, vocab = x.shape
    r, psi_g = _prefix(y_prev, state, x)                                          # (rows, T + 1, 2), (rows,)
    last = torch.where(y_prev == BOS, -1, y_prev)                                 # (rows,) no repeat after BOS
    either = torch.logaddexp(r[:, :, 0], r[:, :, 1])                              # (rows, T + 1)
    repeat = torch.arange(vocab, device=x.device)[None, :] == last[:, None]       # (rows, vocab)
    phi = torch.where(repeat[:, None, :], r[:, :, 1, None], either[:, :, None])   # (rows, T + 1, vocab)
    blank = x[:, :, BLANK, None]                                                  # (rows, T, 1)
    n = b = torch.full((rows, vocab), NEG_INF, device=x.device)                    # r_0 of g + c
    ns, bs = [n], [b]
    for t in range(1, T + 1):
        n, b = torch.logaddexp(n, phi[:, t - 1]) + x[:, t - 1], torch.logaddexp(b, n) + blank[:, t - 1]
        ns.append(n)
        bs.append(b)
    new_r = torch.stack([torch.stack(ns, 1), torch.stack(bs, 1)], -1)            # (rows, T + 1, vocab, 2)
    psi = torch.logsumexp(phi[:, :T] + x, dim=1)                                   # (rows, vocab)
    psi[:, EOS] = either[:, T]                                                     # the whole input read
    psi[:, BLANK] = NEG_INF
    psi[:, BOS] = NEG_INF
    increment = torch.where(torch.isfinite(psi_g)[:, None], psi - psi_g[:, None], NEG_INF)
    return increment, PrefixState(x, new_r, psi)


def _prefix(y_prev: Tensor, state: PrefixState, x: Tensor) -> tuple[Tensor, Tensor]:
    """r (rows, T + 1, 2) and the prefix score (rows,) of each row's prefix g."""
    rows, T, _ = x.shape
    if state.next_r is None:                                                       # g is empty
        r = torch.full((rows, T + 1, 2), NEG_INF, device=x.device)
        r[:, 0, 1] = 0.0
        r[:, 1:, 1] = x[:, :, BLANK].cumsum(1)
        return r, torch.zeros(rows, device=x.device)
    index = torch.arange(rows, device=x.device)
    return state.next_r[index, :, y_prev], state.next_psi[index, y_prev]
