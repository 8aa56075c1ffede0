"""Decoders: one `step` per family is the single truth for training, greedy and beam search.

    out, state, weights = decoder.step(y_prev, state, memory)

y_prev (batch,) previous token ids — or (batch, frame_size) frames: the output head (`decoder.head`, see heads.py)
turns it into the input vector; `state` a `DecoderState` (pure: a new one comes back); `memory` the encoder's
`Memory` with its attention cache (`decoder.prepare(memory)`, once per batch). `out` (batch, output_size) is the
feature vector the head reads (logits, or frames + stop). `weights` (batch, src_len) or None (vanilla).

Families (e = the head's embedding of y_{t-1}; the output rule `readout` = dropout(tanh(W[...])) is written once):
- vanilla (Cho et al. 2014): the encoder's final state c is the fixed context; s_t = RNN([e; c], s_{t-1}),
  out = readout(s_t, c, e).
- bahdanau (2014): c_t = attend(s_{t-1}, H) (additive, or location-aware); s_t = RNN([e; c_t], s_{t-1}),
  out = readout(s_t, c_t, e).
- luong (2015): h_t = RNN([e; h̃_{t-1}] or e, h_{t-1}); c_t = attend(h_t, H) with dot / general / concat /
  location, globally or in a local window (local-m, local-p); h̃_t = readout(c_t, h_t) = out.

`forward(tgt_in, memory)` runs a whole target sequence. Where no step depends on the previous step's output
(vanilla, luong without input feeding and with a content score) it makes one fused RNN call and one batched
attention; otherwise it loops over `step`. Tests hold the two paths equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Optional

import torch
from torch import Tensor, nn

from .attention import AttentionState, build_attention
from .encoder import Memory, make_rnn

if TYPE_CHECKING:
    from ..config import DecoderConfig


@dataclass
class DecoderState:
    hidden: Tensor = field(metadata={"batch_dim": 1})                     # (layers, batch, hidden)
    cell: Optional[Tensor] = field(default=None, metadata={"batch_dim": 1})   # (layers, batch, hidden), LSTM only
    feed: Optional[Tensor] = None                                         # (batch, output_size), input feeding only
    attention: AttentionState = field(default_factory=AttentionState)    # previous weights, step index

    def select(self, index: Tensor) -> "DecoderState":
        """Rows `index` of every field (beam search reorders with it): tensors along their batch dimension,
        nested states through their own `select`."""
        return DecoderState(**{name: select_rows(getattr(self, name), index, dim) for name, dim in _BATCH_DIMS})

    @property
    def rnn_state(self):
        return self.hidden if self.cell is None else (self.hidden, self.cell)


_BATCH_DIMS = tuple((f.name, f.metadata.get("batch_dim", 0)) for f in fields(DecoderState))


def select_rows(value: Any, index: Tensor, dim: int = 0) -> Any:
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.index_select(dim, index)
    return value.select(index)


class Decoder(nn.Module):
    """Shared parts: the output head, RNN, bridge, readout layer; subclasses define `step_embedded`."""

    has_attention = True

    def __init__(self, config: "DecoderConfig", head: nn.Module, memory_size: int, output_size: int, bridge: str,
                 rnn_input_size: int):
        super().__init__()
        self.head = head
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = make_rnn(config.rnn, rnn_input_size, config.hidden_size, config.layers, config.dropout)
        self.is_lstm = config.rnn == "lstm"
        self.layers = config.layers
        self.hidden_size = config.hidden_size
        self.output_size = output_size
        self.bridge = nn.Linear(memory_size, config.hidden_size) if bridge == "linear" else None

    # -- state ------------------------------------------------------------------------------------------------
    def init_state(self, memory: Memory) -> DecoderState:
        batch = memory.final.size(0)
        if self.bridge is not None:
            h0 = torch.tanh(self.bridge(memory.final))                       # (batch, hidden)
        else:
            h0 = memory.final.new_zeros(batch, self.hidden_size)
        hidden = h0.unsqueeze(0).expand(self.layers, -1, -1).contiguous()     # (layers, batch, hidden)
        cell = torch.zeros_like(hidden) if self.is_lstm else None
        return DecoderState(hidden, cell, self.initial_feed(memory), self.initial_attention(memory))

    def initial_feed(self, memory: Memory) -> Optional[Tensor]:
        return None

    def initial_attention(self, memory: Memory) -> AttentionState:
        return AttentionState()

    def prepare(self, memory: Memory) -> Memory:
        """Attach the per-batch attention cache (projected keys) to the memory."""
        return memory

    # -- the shared pieces of a step ------------------------------------------------------------------------------
    def run_rnn(self, inputs: Tensor, state: DecoderState) -> tuple[Tensor, Tensor, Optional[Tensor]]:
        """inputs (batch, steps, rnn_input) → outputs (batch, steps, hidden), new hidden, new cell (LSTM)."""
        outputs, new = self.rnn(inputs, state.rnn_state)
        return (outputs, new[0], new[1]) if self.is_lstm else (outputs, new, None)

    def readout(self, *parts: Tensor) -> Tensor:
        """The output rule: dropout(tanh(W [parts])) (batch[, steps], output_size)."""
        return self.dropout(torch.tanh(self.output(torch.cat(parts, -1))))

    def step(self, y_prev: Tensor, state: DecoderState, memory: Memory
             ) -> tuple[Tensor, DecoderState, Optional[Tensor]]:
        """One decoder step from the previous output y_prev (token ids (batch,) or frames (batch, frame))."""
        return self.step_embedded(self.head.embed(y_prev), state, memory)

    def step_embedded(self, emb: Tensor, state: DecoderState, memory: Memory
                      ) -> tuple[Tensor, DecoderState, Optional[Tensor]]:
        """The step itself, from the head's embedding of y_prev (batch, embedding): teacher forcing embeds the
        whole target once, search embeds one step at a time; both come here."""
        raise NotImplementedError

    def forward(self, tgt_in: Tensor, memory: Memory, teacher_prob: float = 1.0
                ) -> tuple[Tensor, Optional[Tensor]]:
        """Teacher-forced pass: tgt_in (batch, tgt_len[, frame]) → outputs (batch, tgt_len, output_size), attention
        (batch, tgt_len, src_len) or None. Loops over `step_embedded`; subclasses may fuse.

        teacher_prob < 1: scheduled sampling (Bengio et al. 2015). At every step after the first, each row feeds
        the reference with probability teacher_prob and otherwise the model's own prediction from the step before
        (the head's feedback: argmax token or predicted frame, no gradient through the choice). teacher_prob = 1
        draws nothing: plain teacher forcing.
        """
        memory = self.prepare(memory)
        state = self.init_state(memory)
        embedded = self.head.embed(tgt_in)                                    # (batch, tgt_len, embedding)
        sampling = teacher_prob < 1.0
        if sampling:   # (batch, tgt_len) True where the reference is fed
            use_reference = torch.rand(tgt_in.shape[:2], device=tgt_in.device) < teacher_prob
        outs, attns = [], []
        for t in range(tgt_in.size(1)):
            emb = embedded[:, t]                                              # (batch, embedding)
            if sampling and t > 0 and not bool(use_reference[:, t].all()):
                predicted = self.head.feedback(outs[-1])                      # the model's previous guess
                keep = use_reference[:, t].view(-1, *[1] * (predicted.dim() - 1))
                emb = self.head.embed(torch.where(keep, tgt_in[:, t], predicted))
            out, state, weights = self.step_embedded(emb, state, memory)
            outs.append(out)
            attns.append(weights)
        attention = torch.stack(attns, dim=1) if self.has_attention else None
        return torch.stack(outs, dim=1), attention


class VanillaDecoder(Decoder):
    has_attention = False

    def __init__(self, config, head, memory_size, output_size, bridge):
        super().__init__(config, head, memory_size, output_size, bridge, head.embedding_size + memory_size)
        self.output = nn.Linear(config.hidden_size + memory_size + head.embedding_size, output_size)

    def step_embedded(self, emb, state, memory):
        context = memory.final                                               # (batch, memory_size)
        s, hidden, cell = self.run_rnn(torch.cat([emb, context], -1).unsqueeze(1), state)   # (batch, 1, hidden)
        out = self.readout(s.squeeze(1), context, emb)
        return out, DecoderState(hidden, cell), None

    def forward(self, tgt_in, memory, teacher_prob=1.0):
        if teacher_prob < 1.0:
            return super().forward(tgt_in, memory, teacher_prob)
        # fused: the input at every step is known in advance
        state = self.init_state(memory)
        emb = self.head.embed(tgt_in)                                        # (batch, tgt_len, embedding)
        context = memory.final[:, None, :].expand(-1, tgt_in.size(1), -1)   # (batch, tgt_len, memory_size)
        s, _, _ = self.run_rnn(torch.cat([emb, context], -1), state)        # (batch, tgt_len, hidden)
        return self.readout(s, context, emb), None


class AttentionDecoder(Decoder):
    """A decoder with an attention module (`self.attention`): its cache and its state are set up here."""

    def prepare(self, memory):
        return memory.with_cache(self.attention.prepare(memory.states))

    def initial_attention(self, memory):
        return self.attention.initial_state(memory)


class BahdanauDecoder(AttentionDecoder):
    def __init__(self, config, head, memory_size, output_size, bridge):
        super().__init__(config, head, memory_size, output_size, bridge, head.embedding_size + memory_size)
        self.attention = build_attention(config.score_name, config.hidden_size, memory_size,
                                         config.attention_size or config.hidden_size,
                                         location=(config.location_channels, config.location_kernel))
        self.output = nn.Linear(config.hidden_size + memory_size + head.embedding_size, output_size)

    def step_embedded(self, emb, state, memory):
        query = state.hidden[-1].unsqueeze(1)                                # (batch, 1, hidden): s_{t-1}
        context, weights, attention = self.attention(query, memory, state.attention)
        context = context.squeeze(1)                                         # (batch, memory_size)
        s, hidden, cell = self.run_rnn(torch.cat([emb, context], -1).unsqueeze(1), state)   # s_t (batch, 1, hidden)
        out = self.readout(s.squeeze(1), context, emb)
        return out, DecoderState(hidden, cell, None, attention), weights.squeeze(1)


class LuongDecoder(AttentionDecoder):
    def __init__(self, config, head, memory_size, output_size, bridge):
        rnn_input = head.embedding_size + (output_size if config.feeds_input else 0)
        super().__init__(config, head, memory_size, output_size, bridge, rnn_input)
        self.input_feeding = config.feeds_input
        self.attention = build_attention(config.score_name, config.hidden_size, memory_size,
                                         config.attention_size or config.hidden_size, config.alignment,
                                         config.window, (config.location_channels, config.location_kernel))
        self.output = nn.Linear(memory_size + config.hidden_size, output_size, bias=False)   # W_c

    def initial_feed(self, memory):
        if not self.input_feeding:
            return None
        return memory.final.new_zeros(memory.final.size(0), self.output_size)

    def attend(self, h: Tensor, memory: Memory, state: AttentionState) -> tuple[Tensor, Tensor, AttentionState]:
        # h (batch, steps, hidden) → attentional states h̃ (batch, steps, output), weights (batch, steps, src_len)
        context, weights, state = self.attention(h, memory, state)
        return self.readout(context, h), weights, state

    def step_embedded(self, emb, state, memory):
        x = torch.cat([emb, state.feed], -1) if self.input_feeding else emb
        h, hidden, cell = self.run_rnn(x.unsqueeze(1), state)                # (batch, 1, hidden)
        out, weights, attention = self.attend(h, memory, state.attention)    # (batch, 1, output), (batch, 1, src)
        out = out.squeeze(1)
        return out, DecoderState(hidden, cell, out if self.input_feeding else None, attention), weights.squeeze(1)

    def forward(self, tgt_in, memory, teacher_prob=1.0):
        if self.input_feeding or teacher_prob < 1.0 or self.attention.stateful:
            return super().forward(tgt_in, memory, teacher_prob)
        # fused: one RNN call over the whole target, then all attention scores in one batched product
        memory = self.prepare(memory)
        state = self.init_state(memory)
        h, _, _ = self.run_rnn(self.head.embed(tgt_in), state)              # (batch, tgt_len, hidden)
        out, weights, _ = self.attend(h, memory, state.attention)
        return out, weights


FAMILIES = {"vanilla": VanillaDecoder, "bahdanau": BahdanauDecoder, "luong": LuongDecoder}
