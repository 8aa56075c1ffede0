"""A recurrent language model over one tokenizer's ids (`task: language_model`): embeddings → stacked GRU/LSTM →
the token head. Trained on text alone, it scores a recogniser's or translator's hypotheses in shallow fusion
(`search/fusion.py`): `step` is the one next-token distribution that training (`forward`) teacher-forces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ..data.batching import Batch
from .heads import TokenHead


@dataclass
class LMState:
    hidden: Tensor                   # (layers, rows, hidden)
    cell: Optional[Tensor] = None    # (layers, rows, hidden), LSTM only

    def select(self, rows: Tensor) -> "LMState":
        return LMState(self.hidden.index_select(1, rows),
                       None if self.cell is None else self.cell.index_select(1, rows))


class LanguageModel(nn.Module):
    def __init__(self, config, vocab_size: int):
        super().__init__()
        self.config = config
        self.head = TokenHead(vocab_size, config.embedding_size, config.hidden_size, config.dropout,
                              config.tie_embeddings)
        cell = nn.LSTM if config.rnn == "lstm" else nn.GRU
        self.rnn = cell(config.embedding_size, config.hidden_size, config.layers, batch_first=True,
                        dropout=config.dropout if config.layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)

    @property
    def vocab_size(self) -> int:
        return self.head.vocab_size

    def forward(self, batch: Batch, label_smoothing: float = 0.0, teacher_prob: float = 1.0, step: int = 0) -> Tensor:
        """The summed next-token cross-entropy of batch.tgt_out given batch.tgt_in (BOS y1 .. yn → y1 .. yn EOS);
        the source side is not read (teacher_prob: always teacher-forced; step: no scheduled losses)."""
        out, _ = self.rnn(self.head.embed(batch.tgt_in))                   # (batch, tgt_len, hidden)
        return self.head.loss(self.dropout(out), batch, label_smoothing)

    def start(self, rows: int, device: torch.device) -> LMState:
        zeros = torch.zeros(self.config.layers, rows, self.config.hidden_size, device=device)
        return LMState(zeros, zeros.clone() if self.config.rnn == "lstm" else None)

    def step(self, y_prev: Tensor, state: LMState) -> tuple[Tensor, LMState]:
        """y_prev (rows,) → log P(next token) (rows, vocab), the state after y_prev."""
        emb = self.head.embed(y_prev.unsqueeze(1))                         # (rows, 1, embedding)
        if state.cell is None:
            out, hidden = self.rnn(emb, state.hidden)
            new = LMState(hidden)
        else:
            out, (hidden, cell) = self.rnn(emb, (state.hidden, state.cell))
            new = LMState(hidden, cell)
        return self.head.log_probs(self.dropout(out[:, 0])), new

    def num_parameters(self) -> int:
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())
