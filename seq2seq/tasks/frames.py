"""What speech_to_text and text_to_speech share: frames on one side, text on the other.

The examples are (frames (n, feature_size), text) pairs — built in so far: the seeded generator of
`data/synthetic_frames.py` (audio files arrive with the speech recipes). One tokenizer, trained on the text side,
is saved in the run directory as a joint tokenizer; frames need no vocabulary, only their size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from .. import checkpoint as ckpt
from ..data.batching import Batch
from ..data.synthetic_frames import FramesSplit, generate
from ..data.tokenizers import Tokenizer, save_tokenizers, train_tokenizer
from ..errors import UserError, warn
from .base import Splits, Task


@dataclass
class FramesTextData:
    """Encoded pairs: frames (n, feature_size) and token ids, each side as the task orders them."""

    train_src: list = field(default_factory=list)     # token id lists or frame tensors
    train_tgt: list = field(default_factory=list)
    valid_src: list = field(default_factory=list)
    valid_tgt: list = field(default_factory=list)
    valid_refs: list[str] = field(default_factory=list)   # the validation texts (speech_to_text's references)
    report: str = ""
    make_batch: object = None                         # (sources, targets) → Batch

    def train_lengths(self) -> tuple[list[int], list[int]]:
        return [len(s) for s in self.train_src], [len(t) for t in self.train_tgt]

    def train_batch(self, ids: Sequence[int]):
        return self.make_batch([self.train_src[i] for i in ids], [self.train_tgt[i] for i in ids])

    def valid_batches(self, size: int):
        """The validation pairs in order, `size` at a time."""
        for start in range(0, len(self.valid_src), size):
            yield self.make_batch(self.valid_src[start : start + size], self.valid_tgt[start : start + size])


class FramesTask(Task):
    """Frames on one side, text on the other: reading, the text tokenizer, and pair filtering."""

    @property
    def feature_size(self) -> int:
        return self.config.data.synthetic.feature_size

    def read_data(self, splits: tuple[str, ...] = ("train", "valid")) -> Splits:
        return generate(self.config.data.synthetic)

    def build_vocab(self, data: Splits) -> Tokenizer:
        tok = self.config.tokenizer
        if tok.from_run is not None:
            return self.load_vocab(Path(tok.from_run))
        return train_tokenizer(tok.type, data["train"].texts, model_type=tok.model_type, vocab_size=tok.vocab_size,
                               character_coverage=tok.character_coverage, min_freq=tok.min_freq,
                               seed=self.config.train.seed)

    def save_vocab(self, run_dir: Path, vocab: Tokenizer) -> None:
        save_tokenizers(run_dir / ckpt.TOKENIZER, vocab, vocab)

    def load_vocab(self, run_dir: Path) -> Tokenizer:
        return ckpt.tokenizers_of(run_dir)[1]

    def pairs(self, split: FramesSplit, tok: Tokenizer) -> tuple[list[torch.Tensor], list[list[int]]]:
        return list(split.frames), [tok.encode(t) for t in split.texts]

    def sides(self, frames: list, ids: list) -> tuple[list, list]:
        """(sources, targets): which side the model reads and which it writes."""
        raise NotImplementedError

    def make_batch(self, sources: list, targets: list) -> Batch:
        raise NotImplementedError

    def encode(self, data: Splits, vocab: Tokenizer) -> FramesTextData:
        frames, ids = self.pairs(data["train"], vocab)
        keep = self.kept(frames, ids)
        train_src, train_tgt = self.sides([frames[i] for i in keep], [ids[i] for i in keep])
        valid_src, valid_tgt = self.sides(*self.pairs(data["valid"], vocab))
        return FramesTextData(train_src, train_tgt, valid_src, valid_tgt, list(data["valid"].texts),
                              f"data: {len(keep):,} training pairs of {len(frames):,}; {len(valid_src):,} validation "
                              f"pairs; {self.feature_size} values per frame; vocabulary {vocab.vocab_size:,}",
                              self.make_batch)

    def kept(self, frames: list[torch.Tensor], ids: list[list[int]]) -> list[int]:
        """Indices of the training pairs within data.max_len on both sides, with a warning for the others."""
        limit = self.config.data.max_len
        keep = [i for i, (f, t) in enumerate(zip(frames, ids)) if t and len(f) and len(f) <= limit
                and len(t) <= limit]
        if not keep:
            raise UserError(f"no training pairs left after filtering (data.max_len={limit})")
        if len(keep) < len(frames):
            warn(f"{len(frames) - len(keep):,} training pairs that are empty or longer than data.max_len={limit} "
                 f"are skipped")
        return keep
