"""The splits an images `data` config names: the rendered lines, the handwritten digit strings, or manifests (a
validation split held out of the training manifest when `valid` is not given)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import UserError
from ..held_out import held_out_size
from .digits import generate_digits
from .manifest import ImageSplit, read_images
from .rendered import generate_lines


def read_image_splits(data, splits: tuple[str, ...]) -> dict[str, ImageSplit]:
    """The requested splits of an images `data` config: rendered lines, digit strings or manifests."""
    if data.lines is not None:
        return generate_lines(data.lines, data.height, data.max_width, splits, Path(data.root or "."))
    if data.digits is not None:
        return generate_digits(data.digits, data.height, data.max_width, splits)
    root = Path(data.root or ".")
    names = {"train": data.train, "valid": data.valid, "test": data.test}

    def read(split: str) -> ImageSplit:
        if names[split] is None:
            raise UserError(f"data.{split} is not set: no {split} manifest")
        return read_images(root / names[split], data.height, data.max_width, data.max_pixels)

    if data.valid is None and "valid" in splits:
        train = read("train")
        order = np.random.default_rng(data.split_seed).permutation(len(train))
        size = held_out_size(len(train), data.valid_split)
        held = {"valid": _subset(train, order[:size]), "train": _subset(train, np.sort(order[size:]))}
        return {split: held[split] if split in held else read(split) for split in splits}
    return {split: read(split) for split in splits}


def _subset(split: ImageSplit, rows) -> ImageSplit:
    out = ImageSplit()
    for i in rows:
        out.add(split.frames[i], split.texts[i], split.names[i])
    return out
