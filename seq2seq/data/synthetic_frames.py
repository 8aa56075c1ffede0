"""A built-in frames task: symbols ↔ sequences of feature frames, generated from a seed (no files needed).

Every symbol has a fixed random pattern of `max_frames` frames of `feature_size` values (its "sound", drawn once
from the seed). A sequence of symbols sounds like the concatenation of its symbols' patterns, each held for a
random number of frames in [min_frames, max_frames] (the first frames of its pattern), plus Gaussian noise. The
text side names the symbols as words ("three five seven" for digits). speech_to_text reads the frames and writes
the words; text_to_speech reads the words and writes the frames (set noise 0 and min_frames = max_frames for a
deterministic target). The splits are disjoint draws from one generator, so they differ only by chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import SyntheticFramesConfig

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def symbol_names(count: int) -> list[str]:
    """Digit words for up to ten symbols, else letters a, b, ..., A, B, ..."""
    if count <= len(DIGITS):
        return DIGITS[:count]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    return letters[:count]


@dataclass
class FramesSplit:
    frames: list[torch.Tensor]    # each (n_frames, feature_size)
    texts: list[str]              # the symbols as words, space-separated

    def __len__(self) -> int:
        return len(self.texts)


def generate(config: SyntheticFramesConfig) -> dict[str, FramesSplit]:
    """The train, valid and test splits of the configured generator."""
    g = torch.Generator().manual_seed(config.seed)
    patterns = torch.randn(config.symbols, config.max_frames, config.feature_size, generator=g)
    names = symbol_names(config.symbols)
    sizes = {"train": config.train_size, "valid": config.valid_size, "test": config.test_size}
    return {split: _split(n, patterns, names, config, g) for split, n in sizes.items()}


def _split(n: int, patterns: torch.Tensor, names: list[str], config: SyntheticFramesConfig,
           g: torch.Generator) -> FramesSplit:
    frames, texts = [], []
    for _ in range(n):
        length = int(torch.randint(config.min_len, config.max_len + 1, (1,), generator=g))
        symbols = torch.randint(0, len(names), (length,), generator=g).tolist()
        durations = torch.randint(config.min_frames, config.max_frames + 1, (length,), generator=g).tolist()
        clean = torch.cat([patterns[s, :d] for s, d in zip(symbols, durations)])   # (n_frames, feature_size)
        frames.append(clean + config.noise * torch.randn(clean.shape, generator=g))
        texts.append(" ".join(names[s] for s in symbols))
    return FramesSplit(frames, texts)
