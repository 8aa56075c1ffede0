"""Images and their texts on disk: a TSV manifest (`image_path<TAB>text`, paths relative to the manifest), or a
folder of images each with its transcript beside it (`line.png` + `line.gt.txt` or `line.txt`, as OCR ground
truth is usually kept)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ...errors import UserError
from .reading import read_picture, to_columns

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pgm", ".ppm")
TRANSCRIPT_SUFFIXES = (".gt.txt", ".txt")


@dataclass
class ImageSplit:
    """Images as (width, height) columns with their texts, and where each came from."""

    frames: list[torch.Tensor] = field(default_factory=list)      # (width, height) ink columns, 1 = ink
    texts: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, columns: torch.Tensor, text: str, name: str) -> None:
        self.frames.append(columns)
        self.texts.append(text)
        self.names.append(name)


def list_images(source: Path) -> list[tuple[Path, str]]:
    """(image path, text) pairs of a manifest file or a folder of images with transcripts, in order."""
    if source.is_dir():
        return [(image, _transcript_of(image)) for image in sorted(source.iterdir())
                if image.suffix.lower() in IMAGE_SUFFIXES]
    if not source.is_file():
        raise UserError(f"{source}: no such manifest or folder of images")
    pairs = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise UserError(f"{source}:{number}: expected image_path<TAB>text")
        name, text = line.split("\t", 1)
        path = source.parent / name.strip()
        if not path.is_file():
            raise UserError(f"{source}:{number}: {path}: no such image file")
        pairs.append((path, text.strip()))
    if not pairs:
        raise UserError(f"{source}: no images listed")
    return pairs


def read_images(source: Path, height: int, max_width: int, max_pixels: int) -> ImageSplit:
    split = ImageSplit()
    for path, text in list_images(source):
        picture = read_picture(path, max_pixels)
        split.add(to_columns(picture.ink, height, max_width, str(path)), text, str(path))
    return split


def _transcript_of(image: Path) -> str:
    stem = image.with_suffix("")
    for suffix in TRANSCRIPT_SUFFIXES:
        candidate = stem.parent / (stem.name + suffix)
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").strip()
    raise UserError(f"{image}: no transcript beside it ({stem.name}.gt.txt or {stem.name}.txt)")
