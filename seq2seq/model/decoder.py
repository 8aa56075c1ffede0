"""Decoders: one `step` per family is the single truth for training, greedy and beam search.

    out, state, weights = decoder.step(y_prev, state, memory)

y_prev (batch,) previous token ids; `state` a `DecoderState` (pure: a new one comes back); `memory` the encoder's
`Memory` with its attention cache (`decoder.prepare(memory)`, once per batch). `out` (batch, output_size) is the
pre-softmax feature vector; `decoder.generator(out)` gives logits. `weights` (batch, src_len) or None (vanilla).

Families:
- vanilla (Cho et al. 2014): the encoder's final state c is the fixed context; s_t = RNN([e(y_{t-1}); c], s_{t-1}),
  out = tanh(W[s_t; c; e(y_{t-1})]).
- bahdanau (2014): c_t = attend(s_{t-1}, H) with vᵀtanh(W s + U h); s_t = RNN([e(y_{t-1}); c_t], s_{t-1}),
  out = tanh(W[s_t; c_t; e(y_{t-1})]).
- luong (2015): h_t = RNN([e(y_{t-1}); h̃_{t-1}] or e(y_{t-1}), h_{t-1}); c_t = attend(h_t, H) with dot / general /
  concat, globally or in a local window (local-m, local-p); h̃_t = tanh(W_c[c_t; h_t]) = out.

`forward(tgt_in, memory)` runs a whole target sequence. Where no step depends on the previous step's output
(vanilla, luong without input feeding) it makes one fused RNN call and one batched attention; otherwise it loops
over `step`. Tests hold the two paths equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ..data.tokenizers import PAD
from .attention import build_attention
from .encoder import Memory, make_rnn


@dataclass
class DecoderState:
    hidden: Tensor                 # (layers, batch, hidden)
    cell: Optional[Tensor] = None  # (layers, batch, hidden), LSTM only
    feed: Optional[Tensor] = None  # (batch, output_size), Luong input feeding only
    time: int = 0                  # steps taken so far (the same for every row); Luong local-m reads it

    def select(self, index: Tensor) -> "DecoderState":
        pick = lambda t, dim: None if t is None else t.index_select(dim, index)
        return DecoderState(pick(self.hidden, 1), pick(self.cell, 1), pick(self.feed, 0), self.time)

    @property
    def rnn_state(self):
        return self.hidden if self.cell is None else (self.hidden, self.cell)


class Decoder(nn.Module):
    """Shared parts: target embedding, RNN, bridge, output layer; subclasses define `step`."""

    has_attention = True

    def __init__(self, vocab_size: int, embedding_size: int, memory_size: int, rnn: str, hidden_size: int,
                 layers: int, dropout: float, rnn_input_size: int, output_size: int, bridge: str,
                 tie_embeddings: bool):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.rnn = make_rnn(rnn, rnn_input_size, hidden_size, layers, dropout)
        self.is_lstm = rnn == "lstm"
        self.layers = layers
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.bridge = nn.Linear(memory_size, hidden_size) if bridge == "linear" else None
        self.generator = nn.Linear(output_size, vocab_size)
        if tie_embeddings:
            if output_size != embedding_size:
                raise ValueError(f"tie_embeddings needs output size {output_size} == embedding size {embedding_size}")
            self.generator.weight = self.embedding.weight

    # -- state ------------------------------------------------------------------------------------------------
    def init_state(self, memory: Memory) -> DecoderState:
        batch = memory.final.size(0)
        if self.bridge is not None:
            h0 = torch.tanh(self.bridge(memory.final))                       # (batch, hidden)
        else:
            h0 = memory.final.new_zeros(batch, self.hidden_size)
        hidden = h0.unsqueeze(0).expand(self.layers, -1, -1).contiguous()     # (layers, batch, hidden)
        cell = torch.zeros_like(hidden) if self.is_lstm else None
        return DecoderState(hidden, cell, self.initial_feed(memory))

    def initial_feed(self, memory: Memory) -> Optional[Tensor]:
        return None

    def prepare(self, memory: Memory) -> Memory:
        """Attach the per-batch attention cache (projected keys) to the memory."""
        return memory

    # -- running the RNN ----------------------------------------------------------------------------------------
    def run_rnn(self, inputs: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        # inputs (batch, steps, rnn_input) → outputs (batch, steps, hidden)
        outputs, new = self.rnn(inputs, state.rnn_state)
        if self.is_lstm:
            return outputs, DecoderState(new[0], new[1], state.feed, state.time + inputs.size(1))
        return outputs, DecoderState(new, None, state.feed, state.time + inputs.size(1))

    def embed(self, ids: Tensor) -> Tensor:
        return self.dropout(self.embedding(ids))

    def step(self, y_prev: Tensor, state: DecoderState, memory: Memory
             ) -> tuple[Tensor, DecoderState, Optional[Tensor]]:
        """One decoder step from the previous token ids y_prev (batch,)."""
        return self.step_embedded(self.embed(y_prev), state, memory)

    def step_embedded(self, emb: Tensor, state: DecoderState, memory: Memory
                      ) -> tuple[Tensor, DecoderState, Optional[Tensor]]:
        """The step itself, from the (dropped-out) embedding of y_prev (batch, embedding): teacher forcing embeds
        the whole target once, search embeds one token per step; both come here."""
        raise NotImplementedError

    def forward(self, tgt_in: Tensor, memory: Memory, teacher_prob: float = 1.0
                ) -> tuple[Tensor, Optional[Tensor]]:
        """Teacher-forced pass: tgt_in (batch, tgt_len) → outputs (batch, tgt_len, output_size), attention
        (batch, tgt_len, src_len) or None. Loops over `step_embedded`; subclasses may fuse.

        teacher_prob < 1: scheduled sampling (Bengio et al. 2015). At every step after the first, each row feeds
        the reference token with probability teacher_prob and otherwise the model's own prediction from the step
        before (its argmax, no gradient through the choice). teacher_prob = 1 draws nothing: plain teacher forcing.
        """
        memory = self.prepare(memory)
        state = self.init_state(memory)
        embedded = self.embed(tgt_in)                                         # (batch, tgt_len, embedding)
        sampling = teacher_prob < 1.0
        if sampling:   # (batch, tgt_len) True where the reference token is fed
            use_reference = torch.rand(tgt_in.shape, device=tgt_in.device) < teacher_prob
        outs, attns = [], []
        for t in range(tgt_in.size(1)):
            emb = embedded[:, t]                                              # (batch, embedding)
            if sampling and t > 0 and not bool(use_reference[:, t].all()):
                predicted = self.generator(outs[-1]).argmax(-1)               # (batch,) the model's previous guess
                emb = self.embed(torch.where(use_reference[:, t], tgt_in[:, t], predicted))
            out, state, weights = self.step_embedded(emb, state, memory)
            outs.append(out)
            attns.append(weights)
        attention = torch.stack(attns, dim=1) if self.has_attention else None
        return torch.stack(outs, dim=1), attention


class VanillaDecoder(Decoder):
    has_attention = False

    def __init__(self, vocab_size, embedding_size, memory_size, rnn, hidden_size, layers, dropout, bridge,
                 tie_embeddings):
        output_size = embedding_size if tie_embeddings else hidden_size
        super().__init__(vocab_size, embedding_size, memory_size, rnn, hidden_size, layers, dropout,
                         embedding_size + memory_size, output_size, bridge, tie_embeddings)
        self.output = nn.Linear(hidden_size + memory_size + embedding_size, output_size)

    def step_embedded(self, emb, state, memory):
        context = memory.final                                               # (batch, memory_size)
        rnn_out, state = self.run_rnn(torch.cat([emb, context], -1).unsqueeze(1), state)
        s = rnn_out.squeeze(1)                                               # (batch, hidden)
        out = self.dropout(torch.tanh(self.output(torch.cat([s, context, emb], -1))))
        return out, state, None

    def forward(self, tgt_in, memory, teacher_prob=1.0):
        if teacher_prob < 1.0:
            return super().forward(tgt_in, memory, teacher_prob)
        # fused: the input at every step is known in advance
        state = self.init_state(memory)
        emb = self.embed(tgt_in)                                             # (batch, tgt_len, embedding)
        context = memory.final[:, None, :].expand(-1, tgt_in.size(1), -1)   # (batch, tgt_len, memory_size)
        s, _ = self.run_rnn(torch.cat([emb, context], -1), state)           # (batch, tgt_len, hidden)
        out = self.dropout(torch.tanh(self.output(torch.cat([s, context, emb], -1))))
        return out, None


class BahdanauDecoder(Decoder):
    def __init__(self, vocab_size, embedding_size, memory_size, rnn, hidden_size, layers, dropout, bridge,
                 tie_embeddings, attention_size):
        output_size = embedding_size if tie_embeddings else hidden_size
        super().__init__(vocab_size, embedding_size, memory_size, rnn, hidden_size, layers, dropout,
                         embedding_size + memory_size, output_size, bridge, tie_embeddings)
        self.attention = build_attention("additive", hidden_size, memory_size, attention_size)
        self.output = nn.Linear(hidden_size + memory_size + embedding_size, output_size)

    def prepare(self, memory):
        return memory.with_cache(self.attention.prepare(memory.states))

    def step_embedded(self, emb, state, memory):
        query = state.hidden[-1].unsqueeze(1)                                # (batch, 1, hidden): s_{t-1}
        context, weights = self.attention(query, memory.states, memory.states, memory.mask, memory.cache)
        context = context.squeeze(1)                                         # (batch, memory_size)
        rnn_out, state = self.run_rnn(torch.cat([emb, context], -1).unsqueeze(1), state)
        s = rnn_out.squeeze(1)                                               # (batch, hidden): s_t
        out = self.dropout(torch.tanh(self.output(torch.cat([s, context, emb], -1))))
        return out, state, weights.squeeze(1)


class LuongDecoder(Decoder):
    def __init__(self, vocab_size, embedding_size, memory_size, rnn, hidden_size, layers, dropout, bridge,
                 tie_embeddings, attention_size, score, input_feeding, alignment="global", window=10):
        output_size = embedding_size if tie_embeddings else hidden_size
        rnn_input = embedding_size + (output_size if input_feeding else 0)
        super().__init__(vocab_size, embedding_size, memory_size, rnn, hidden_size, layers, dropout,
                         rnn_input, output_size, bridge, tie_embeddings)
        self.input_feeding = input_feeding
        self.attention = build_attention(score, hidden_size, memory_size, attention_size, alignment, window)
        self.combine = nn.Linear(memory_size + hidden_size, output_size, bias=False)  # W_c

    def initial_feed(self, memory):
        if not self.input_feeding:
            return None
        return memory.final.new_zeros(memory.final.size(0), self.output_size)

    def prepare(self, memory):
        return memory.with_cache(self.attention.prepare(memory.states))

    def attend(self, h: Tensor, memory: Memory, first_step: int) -> tuple[Tensor, Tensor]:
        # h (batch, steps, hidden) → attentional states h̃ (batch, steps, output), weights (batch, steps, src_len)
        time = torch.arange(first_step, first_step + h.size(1), device=h.device)  # (steps,) decoder step index
        context, weights = self.attention(h, memory.states, memory.states, memory.mask, memory.cache, time)
        return self.dropout(torch.tanh(self.combine(torch.cat([context, h], -1)))), weights

    def step_embedded(self, emb, state, memory):
        x = torch.cat([emb, state.feed], -1) if self.input_feeding else emb
        t = state.time
        h, state = self.run_rnn(x.unsqueeze(1), state)                       # (batch, 1, hidden)
        out, weights = self.attend(h, memory, t)                             # (batch, 1, output), (batch, 1, src)
        out = out.squeeze(1)
        if self.input_feeding:
            state = DecoderState(state.hidden, state.cell, out, state.time)
        return out, state, weights.squeeze(1)

    def forward(self, tgt_in, memory, teacher_prob=1.0):
        if self.input_feeding or teacher_prob < 1.0:
            return super().forward(tgt_in, memory, teacher_prob)
        # fused: one RNN call over the whole target, then all attention scores in one batched product
        memory = self.prepare(memory)
        h, _ = self.run_rnn(self.embed(tgt_in), self.init_state(memory))    # (batch, tgt_len, hidden)
        return self.attend(h, memory, 0)
