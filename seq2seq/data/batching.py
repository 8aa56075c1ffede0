"""Batches: padded id tensors with explicit masks, built from length-sorted buckets.

Each epoch the examples are shuffled with a generator seeded by (seed, epoch), cut into pools of many batches,
sorted by target length, then source length, inside each pool, split by a sentence count or a padded-token budget,
and the batches shuffled again. Target length first because the decoder is the sequential part: it runs (longest
target + 1) steps for every row, while the encoder packs its sequences and never computes on padding (on Multi30k
de→en, 1.03 padded target positions per real token, against 1.27 when sorting by source first). The order is a
pure function of (seed, epoch), which is what makes resume exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from .text.tokenizers import BOS, EOS, PAD

POOL_BATCHES = 50   # batches per sorting pool: bigger pools pad less but shuffle less


@dataclass
class Batch:
    """One padded batch; the source and target are token ids or feature frames, masks and lengths travel along."""

    src: torch.Tensor           # (batch, src_len) token ids, PAD after the end — or (batch, frames, features)
    src_lengths: torch.Tensor   # (batch,) real lengths, on the CPU (pack_padded_sequence wants them there)
    src_mask: torch.Tensor      # (batch, src_len) True on real positions
    tgt_in: torch.Tensor        # (batch, tgt_len) BOS y1 .. yn, PAD after — frames: (batch, steps, frame) go-frame
                                # (zeros), then the last frame of each earlier step
    tgt_out: torch.Tensor       # (batch, tgt_len) y1 .. yn EOS, PAD after — frames: (batch, steps, r * frame)
    tgt_mask: torch.Tensor      # (batch, tgt_len) True on real positions (decoder steps)
    n_tokens: int               # real target positions (tokens with EOS, or decoder steps)
    frame_mask: Optional[torch.Tensor] = None    # frames: (batch, steps * r) True on real frames
    stop_target: Optional[torch.Tensor] = None   # frames: (batch, steps) True on each sequence's last step

    @property
    def size(self) -> int:
        return self.src.size(0)

    def to(self, device: torch.device) -> "Batch":
        move = lambda t: None if t is None else t.to(device)
        return Batch(move(self.src), self.src_lengths, move(self.src_mask), move(self.tgt_in), move(self.tgt_out),
                     move(self.tgt_mask), self.n_tokens, move(self.frame_mask), move(self.stop_target))


def pad_sources(seqs: Sequence[Sequence[int]],
                pad_to: Optional[int] = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids (B,S), lengths (B,), mask (B,S)); every sequence must have length >= 1."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    width = max(int(lengths.max()), pad_to or 0)
    ids = torch.full((len(seqs), width), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    mask = torch.arange(width)[None, :] < lengths[:, None]
    return ids, lengths, mask


def pad_frames(seqs: Sequence[torch.Tensor], multiple: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(frames (B,T,F) zero-padded, lengths (B,), mask (B,T)) from (T_i, F) tensors; T is rounded up to a
    multiple of `multiple` (a frame head's reduction factor)."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    width = -(-int(lengths.max()) // multiple) * multiple
    frames = torch.zeros(len(seqs), width, seqs[0].size(-1))
    for i, s in enumerate(seqs):
        frames[i, : len(s)] = s
    mask = torch.arange(width)[None, :] < lengths[:, None]
    return frames, lengths, mask


def make_batch(src: Sequence, tgt: Sequence[Sequence[int]]) -> Batch:
    """Token targets; the sources are token id lists or (frames, features) tensors."""
    src_ids, src_lengths, src_mask = _pad_any(src)
    width = max(len(t) for t in tgt) + 1
    tgt_in = torch.full((len(tgt), width), PAD, dtype=torch.long)
    tgt_out = torch.full((len(tgt), width), PAD, dtype=torch.long)
    for i, t in enumerate(tgt):
        t = torch.as_tensor(list(t), dtype=torch.long)
        tgt_in[i, 0] = BOS
        tgt_in[i, 1 : len(t) + 1] = t
        tgt_out[i, : len(t)] = t
        tgt_out[i, len(t)] = EOS
    tgt_mask = tgt_out != PAD
    return Batch(src_ids, src_lengths, src_mask, tgt_in, tgt_out, tgt_mask, int(tgt_mask.sum()))


def make_frame_batch(src: Sequence, tgt: Sequence[torch.Tensor], reduction: int) -> Batch:
    """Frame targets (T_i, frame) written `reduction` frames per decoder step; sources as in `make_batch`."""
    src_ids, src_lengths, src_mask = _pad_any(src)
    frames, lengths, frame_mask = pad_frames(tgt, reduction)                 # (B, steps * r, frame)
    batch, width, size = frames.shape
    steps = torch.div(lengths + reduction - 1, reduction, rounding_mode="floor")   # (B,) real decoder steps
    tgt_out = frames.view(batch, width // reduction, reduction * size)       # (B, steps, r * frame)
    last = frames[:, reduction - 1 :: reduction]                             # (B, steps, frame) each step's last
    tgt_in = torch.cat([frames.new_zeros(batch, 1, size), last[:, :-1]], 1)   # (B, steps, frame) go-frame first
    tgt_mask = torch.arange(width // reduction)[None, :] < steps[:, None]    # (B, steps)
    stop = torch.arange(width // reduction)[None, :] == (steps - 1)[:, None]
    return Batch(src_ids, src_lengths, src_mask, tgt_in, tgt_out, tgt_mask, int(steps.sum()), frame_mask, stop)


def _pad_any(seqs: Sequence) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return pad_frames(seqs) if isinstance(seqs[0], torch.Tensor) else pad_sources(seqs)


def plan_batches(src_lens: Sequence[int], tgt_lens: Sequence[int], *, epoch: int, seed: int,
                 batch_sentences: Optional[int] = None, batch_tokens: Optional[int] = None,
                 shuffle: bool = True, shortest_first: bool = False) -> list[list[int]]:
    """Group example indices into batches. Every index appears exactly once.

    shortest_first: one pool of every example, batches in ascending length (SortaGrad's first epoch, Amodei et
    al. 2016: short utterances first, while the model cannot yet align long ones).

    batch_tokens: padded size, max(src_len, tgt_len + 1) x sentences, stays within the budget (a single longer
    example still gets a batch of its own).
    """
    n = len(src_lens)
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=g).tolist() if shuffle else list(range(n))
    key = lambda i: (tgt_lens[i], src_lens[i])
    per_pool = max(1, n) if shortest_first else (batch_sentences or max(1, batch_tokens // 16)) * POOL_BATCHES
    shuffle = shuffle and not shortest_first
    batches: list[list[int]] = []
    for start in range(0, n, per_pool):
        pool = sorted(order[start : start + per_pool], key=key)
        current: list[int] = []
        width = 0
        for i in pool:
            w = max(width, src_lens[i], tgt_lens[i] + 1)
            full = (len(current) + 1 > batch_sentences) if batch_sentences else (w * (len(current) + 1) > batch_tokens)
            if current and full:
                batches.append(current)
                current, w = [], max(src_lens[i], tgt_lens[i] + 1)
            current.append(i)
            width = w
        if current:
            batches.append(current)
    if shuffle:
        perm = torch.randperm(len(batches), generator=g).tolist()
        batches = [batches[j] for j in perm]
    return batches
