"""Input frontends: turn what a task reads into one vector per input position, and say how many positions remain.

    vectors, lengths = frontend(inputs, lengths)

- `TokenFrontend`: token ids (batch, src_len) → embeddings (batch, src_len, embedding_size); lengths unchanged.
  In training, `word_dropout` drops whole token embeddings (`word_dropout.py`) before the ordinary dropout.
- `ConvTokenFrontend`: token embeddings → `layers` 1-D convolutions over neighbouring positions (Tacotron 2's
  encoder: each layer conv → LayerNorm → ReLU → dropout), so every position sees its `kernel`-wide context before
  the RNN; padding is zeroed before each convolution, so a sequence reads the same alone or padded.
- `FrameFrontend`: feature frames (batch, frames, feature_size) — e.g. log-mel spectrogram frames — optionally
  subsampled by stacking `stack` neighbouring frames into one vector (batch, ceil(frames / stack),
  stack * feature_size), then projected to `output_size`; the lengths shrink accordingly (ceil), so a clip keeps
  its last partial group. The encoder builds its mask from the returned lengths: from here on the memory owns it.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..data.text.tokenizers import PAD
from .encoder import lengths_mask, masked_conv
from .word_dropout import WordDropout


class TokenFrontend(nn.Module):
    def __init__(self, vocab_size: int, embedding_size: int, dropout: float, word_dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.word_dropout = WordDropout(word_dropout)
        self.dropout = nn.Dropout(dropout)
        self.output_size = embedding_size

    def forward(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        words = self.word_dropout(self.embedding(ids))                       # (batch, src_len, embedding)
        return self.dropout(words), lengths


class ConvTokenFrontend(TokenFrontend):
    def __init__(self, vocab_size: int, embedding_size: int, dropout: float, layers: int = 3, kernel: int = 5,
                 word_dropout: float = 0.0):
        super().__init__(vocab_size, embedding_size, dropout, word_dropout)
        if kernel % 2 == 0:
            raise ValueError(f"convolution kernel must be odd (same length out), got {kernel}")
        self.convs = nn.ModuleList(nn.Conv1d(embedding_size, embedding_size, kernel, padding=kernel // 2)
                                   for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(embedding_size) for _ in range(layers))

    def forward(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        x, lengths = super().forward(ids, lengths)                            # (batch, src_len, embedding)
        real = lengths_mask(lengths, x.size(1), x.device).unsqueeze(-1)       # (batch, src_len, 1)
        for conv, norm in zip(self.convs, self.norms):
            y = masked_conv(conv, x, real)                                    # (batch, src_len, embedding)
            x = self.dropout(F.relu(norm(y)))
        return x * real, lengths


class FrameFrontend(nn.Module):
    def __init__(self, feature_size: int, output_size: int, stack: int = 1, dropout: float = 0.0):
        super().__init__()
        if stack < 1:
            raise ValueError(f"frame stacking factor must be >= 1, got {stack}")
        self.stack = stack
        self.projection = nn.Linear(feature_size * stack, output_size)
        self.dropout = nn.Dropout(dropout)
        self.output_size = output_size

    def forward(self, frames: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        # frames (batch, n_frames, feature_size), zeros on padding; lengths (batch,) real frames
        batch, n, features = frames.shape
        k = self.stack
        if n % k:
            frames = F.pad(frames, (0, 0, 0, k - n % k))                       # (batch, k * ceil(n / k), features)
        stacked = frames.reshape(batch, -1, k * features)                      # (batch, ceil(n / k), k * features)
        return self.dropout(self.projection(stacked)), (lengths + k - 1) // k
