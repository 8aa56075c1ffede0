"""Encoder: a frontend (token embedding or feature frames) + a (bi)GRU/LSTM over packed sequences → one state per
input position, as a `Memory` that owns its mask and lengths from then on.

With `residual`, layers above the first run one at a time and each adds its input to its output (Wu et al. 2016,
GNMT): a deep encoder whose upper layers learn a correction, with a short gradient path to the embeddings.

Optionally `pyramid` more layers on top (Listen-Attend-Spell, Chan et al. 2016): each concatenates neighbouring
pairs of states — halving time, ceil for an odd length, whose last pair holds one state and zeros — then runs its
own (bi)RNN. Speech frames come 100 a second; the decoder attends over 2^pyramid times fewer states.

Packing means padding never reaches the RNN, so a sequence encodes the same alone or beside longer ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


@dataclass
class Memory:
    """What the decoder reads: encoder states, their own mask and lengths, the final state, the attention cache.

    The mask and lengths are the encoder's, after any subsampling by the frontend: search, the coverage penalty
    and attention plots read them here, never from the input."""

    states: Tensor                  # (batch, mem_len, memory_size); zeros on padding
    mask: Tensor                    # (batch, mem_len) True on real positions
    final: Tensor                   # (batch, memory_size) last layer's final state, directions concatenated
    cache: Optional[Tensor] = None  # attention.prepare(states), filled by the decoder once per batch

    @property
    def lengths(self) -> Tensor:
        """(batch,) real positions per row."""
        return self.mask.sum(1)

    def select(self, index: Tensor) -> "Memory":
        """Rows `index` of the batch (beam search, dropping finished sentences)."""
        return Memory(self.states.index_select(0, index), self.mask.index_select(0, index),
                      self.final.index_select(0, index),
                      None if self.cache is None else self.cache.index_select(0, index))

    def with_cache(self, cache: Optional[Tensor]) -> "Memory":
        return replace(self, cache=cache)


def make_rnn(kind: str, input_size: int, hidden_size: int, layers: int, dropout: float,
             bidirectional: bool = False) -> nn.RNNBase:
    cls = nn.GRU if kind == "gru" else nn.LSTM
    return cls(input_size, hidden_size, num_layers=layers, batch_first=True, bidirectional=bidirectional,
               dropout=dropout if layers > 1 else 0.0)


def lengths_mask(lengths: Tensor, width: int, device: torch.device) -> Tensor:
    """(batch, width) True on the first lengths[i] positions of row i."""
    return torch.arange(width, device=device)[None, :] < lengths.to(device)[:, None]


class Encoder(nn.Module):
    def __init__(self, frontend: nn.Module, rnn: str, hidden_size: int, layers: int, bidirectional: bool,
                 dropout: float, pyramid: int = 0, output_dropout: float = 0.0, residual: bool = False):
        super().__init__()
        self.frontend = frontend
        stacked = 1 if residual else layers                                  # layers inside the one cuDNN-style RNN
        self.rnn = make_rnn(rnn, frontend.output_size, hidden_size, stacked, dropout, bidirectional)
        self.directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.directions
        self.residual = nn.ModuleList(make_rnn(rnn, self.output_size, hidden_size, 1, 0.0, bidirectional)
                                      for _ in range(layers - stacked))
        self.pyramid = nn.ModuleList(make_rnn(rnn, 2 * self.output_size, hidden_size, 1, 0.0, bidirectional)
                                     for _ in range(pyramid))
        self.between = nn.Dropout(dropout)
        self.output_dropout = nn.Dropout(output_dropout)                     # on the states attention reads

    @property
    def reduction(self) -> int:
        """Input positions per encoder state (the frontend's reduction — frame stacking, image pooling — × pyramid
        halvings): attention plots map back with it."""
        return getattr(self.frontend, "reduction", 1) * 2 ** len(self.pyramid)

    def forward(self, src: Tensor, lengths: Tensor) -> Memory:
        # src (batch, src_len) ids or (batch, frames, features); lengths (batch,) real input positions
        inputs, lengths = self.frontend(src, lengths)                         # (batch, len, input), (batch,)
        lengths = lengths.cpu()                                               # pack_padded_sequence wants them here
        states, final_state = self._run(self.rnn, inputs, lengths)            # (batch, len, memory), (batch, memory)
        for rnn in self.residual:
            update, final_state = self._run(rnn, self.between(states), lengths)
            states = states + update                                          # (batch, len, memory); padding stays 0
        for rnn in self.pyramid:
            states, lengths = halve(self.between(states), lengths)            # (batch, ceil(len / 2), 2 * memory)
            states, final_state = self._run(rnn, states, lengths)
        states = self.output_dropout(states)                                  # padding stays zero
        return Memory(states, lengths_mask(lengths, states.size(1), states.device), final_state)

    def _run(self, rnn: nn.RNNBase, inputs: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """A packed RNN over `inputs`: its states (zeros on padding) and its last layer's final state."""
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        out, final = rnn(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.size(1))  # (batch, len, memory)
        h_n = final[0] if isinstance(final, tuple) else final                 # (layers*directions, batch, hidden)
        last = h_n.view(-1, self.directions, h_n.size(1), h_n.size(2))[-1]    # (directions, batch, hidden)
        return states, torch.cat(list(last), dim=-1)                          # (batch, memory_size)


def masked_conv(conv: nn.Conv1d, x: Tensor, real: Tensor) -> Tensor:
    """A 1-D convolution over time that never reads padding: x (batch, len, channels), real (batch, len, 1) 1 on
    real positions → (batch, len, out_channels); padding is zeroed first, so a sequence convolves the same alone or
    beside longer ones."""
    return conv((x * real).transpose(1, 2)).transpose(1, 2)


def halve(states: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Neighbouring pairs concatenated: (batch, len, d) → (batch, ceil(len / 2), 2d); lengths → ceil(lengths / 2).
    Positions past a row's length are zero, so an odd row's last pair is [its last state, 0]."""
    batch, length, size = states.shape
    if length % 2:
        states = F.pad(states, (0, 0, 0, 1))                                  # (batch, len + 1, d)
    return states.reshape(batch, -1, 2 * size), (lengths + 1) // 2
