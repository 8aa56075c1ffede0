"""Encoder: embedding + (bi)GRU/LSTM over packed sequences → one state per source position.

Packing means padding never reaches the RNN, so a sentence encodes the same alone or beside longer ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..data.tokenizers import PAD


@dataclass
class Memory:
    """What the decoder reads: encoder states, their mask, the final state, and the attention cache."""

    states: Tensor                  # (batch, src_len, memory_size); zeros on padding
    mask: Tensor                    # (batch, src_len) True on real positions
    final: Tensor                   # (batch, memory_size) last layer's final state, directions concatenated
    cache: Optional[Tensor] = None  # attention.prepare(states), filled by the decoder once per batch

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


class Encoder(nn.Module):
    def __init__(self, vocab_size: int, embedding_size: int, rnn: str, hidden_size: int, layers: int,
                 bidirectional: bool, dropout: float):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.rnn = make_rnn(rnn, embedding_size, hidden_size, layers, dropout, bidirectional)
        self.layers = layers
        self.directions = 2 if bidirectional else 1
        self.output_size = hidden_size * self.directions

    def forward(self, src: Tensor, lengths: Tensor, mask: Tensor) -> Memory:
        # src (batch, src_len) ids; lengths (batch,) on the CPU; mask (batch, src_len)
        embedded = self.dropout(self.embedding(src))                          # (batch, src_len, embedding)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, final = self.rnn(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))  # (batch, src_len, memory)
        h_n = final[0] if isinstance(final, tuple) else final                 # (layers*directions, batch, hidden)
        last = h_n.view(self.layers, self.directions, h_n.size(1), h_n.size(2))[-1]  # (directions, batch, hidden)
        final_state = torch.cat(list(last), dim=-1)                           # (batch, memory_size)
        return Memory(states, mask, final_state)
