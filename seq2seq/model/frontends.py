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
- `ConvImageFrontend`: image columns (batch, width, height) → CRNN-style blocks of 3 × 3 convolution, ReLU and max
  pooling (height always halved, width by each block's `pool_width`) → one vector per remaining column (batch,
  ceil(width / reduction), output_size). Columns past each image's width are zeroed before every convolution and
  again after each ReLU, so pooling sees only outputs ≥ 0 beside those zeros: an image reads the same alone or
  padded.
"""

from __future__ import annotations

import math

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

    @property
    def reduction(self) -> int:
        """Input frames per output position."""
        return self.stack

    def forward(self, frames: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        # frames (batch, n_frames, feature_size), zeros on padding; lengths (batch,) real frames
        batch, n, features = frames.shape
        k = self.stack
        if n % k:
            frames = F.pad(frames, (0, 0, 0, k - n % k))                       # (batch, k * ceil(n / k), features)
        stacked = frames.reshape(batch, -1, k * features)                      # (batch, ceil(n / k), k * features)
        return self.dropout(self.projection(stacked)), (lengths + k - 1) // k


class ConvImageFrontend(nn.Module):
    def __init__(self, height: int, output_size: int, channels: list[int], pool_width: list[int],
                 dropout: float = 0.0):
        super().__init__()
        sizes = [1, *channels]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(sizes, sizes[1:]))
        self.pools = nn.ModuleList(nn.MaxPool2d((2, w), ceil_mode=True) for w in pool_width)
        self.pool_width = list(pool_width)
        rows = height
        for _ in channels:
            rows = math.ceil(rows / 2)
        self.projection = nn.Linear(channels[-1] * rows, output_size)
        self.dropout = nn.Dropout(dropout)
        self.output_size = output_size

    @property
    def reduction(self) -> int:
        """Image columns per output position."""
        return math.prod(self.pool_width)

    def forward(self, columns: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        # columns (batch, width, height), zeros on padding; lengths (batch,) real columns
        x = columns.transpose(1, 2).unsqueeze(1)                               # (batch, 1, height, width)
        for conv, pool, width in zip(self.convs, self.pools, self.pool_width):
            real = lengths_mask(lengths, x.size(-1), x.device)[:, None, None, :]   # (batch, 1, 1, width)
            x = pool(F.relu(conv(x * real)) * real)                            # (batch, channels, rows, width')
            lengths = (lengths + width - 1) // width
        batch, channels, rows, width = x.shape
        x = x.permute(0, 3, 1, 2).reshape(batch, width, channels * rows)       # (batch, width', channels * rows)
        real = lengths_mask(lengths, width, x.device).unsqueeze(-1)            # (batch, width', 1)
        return self.dropout(self.projection(x)) * real, lengths
