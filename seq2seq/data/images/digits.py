"""Handwritten digit strings from scikit-learn's 1,797 real 8 × 8 handwritten digits (`load_digits`, shipped with
the package: no download): 1–8 digits side by side with random gaps → the text "3 5 7".

The original images are split first (no image in two splits), then each split's strings are drawn from its own
images only, as the spoken-digit strings are built from recordings of their own split. String i of a split comes
from its own generator, seeded by (seed, split, i).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .manifest import ImageSplit
from .reading import to_columns

SPLITS = ("train", "valid", "test")
SHARES = {"train": 0.7, "valid": 0.15, "test": 0.15}     # of the 1,797 original images


@lru_cache(maxsize=1)
def handwritten_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) ink in [0, 1], labels (1797,)) from scikit-learn."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype(np.float32), digits.target.astype(np.int64)


def split_images(seed: int) -> dict[str, np.ndarray]:
    """Indices of the original images in each split: disjoint, together all of them."""
    images, _ = handwritten_digits()
    order = np.random.default_rng(seed).permutation(len(images))
    train_end = int(SHARES["train"] * len(order))
    valid_end = train_end + int(SHARES["valid"] * len(order))
    return {"train": order[:train_end], "valid": order[train_end:valid_end], "test": order[valid_end:]}


def digit_string(pool: np.ndarray, config, rng: np.random.Generator) -> tuple[np.ndarray, str, list[int]]:
    """(ink (10, width), text, the original images used) of one string drawn from the images `pool`."""
    images, labels = handwritten_digits()
    count = int(rng.integers(config.min_digits, config.max_digits + 1))
    chosen = [int(i) for i in rng.choice(pool, count)]
    parts = [np.zeros((8, int(rng.integers(1, 4))), np.float32)]
    for n, index in enumerate(chosen):
        parts.append(images[index])
        gap = int(rng.integers(config.gap[0], config.gap[1] + 1)) if n < count - 1 else int(rng.integers(1, 4))
        parts.append(np.zeros((8, gap), np.float32))
    ink = np.pad(np.concatenate(parts, axis=1), ((1, 1), (0, 0)))
    return ink, " ".join(str(int(labels[i])) for i in chosen), chosen


def generate_digits(config, height: int, max_width: int, splits=SPLITS) -> dict[str, ImageSplit]:
    pools = split_images(config.seed)
    sizes = {"train": config.train_size, "valid": config.valid_size, "test": config.test_size}
    out = {}
    for split in splits:
        found = ImageSplit()
        for i in range(sizes[split]):
            rng = np.random.default_rng((config.seed, SPLITS.index(split), i))
            ink, text, _ = digit_string(pools[split], config, rng)
            found.add(to_columns(ink, height, max_width, f"{split}-{i:05d}"), text, f"{split}-{i:05d}")
        out[split] = found
    return out
