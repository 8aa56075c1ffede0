"""An image file (PNG, JPEG, TIFF, BMP, GIF, ...) → a sequence of pixel columns the model reads.

Every image becomes grey ink on a zero background: colour is converted to luminance, transparency composited over
white, 16-bit and float images scaled to [0, 1], and the values inverted (ink = 1, paper = 0), so that what pads a
batch (zeros) looks like blank paper. It is scaled to a fixed height keeping its aspect ratio; the width is the
sequence axis: the result is (width, height), one row per column, like feature frames.

Pillow reads the header before any pixel: an image over `max_pixels` is refused before it is decoded (a
decompression bomb never reaches memory), as are files that are not images, truncated ones and images too small
to hold anything. An animated GIF or a multi-page TIFF is read at its first frame, with a warning.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import torch

from ...errors import UserError, warn

MAX_PIXELS = 40_000_000          # the default limit (data.max_pixels): 40 megapixels, e.g. 8,000 × 5,000
MIN_SIDE = 2                     # fewer pixels than this in either direction hold no line to read

ImageInput = Union[str, Path, bytes, np.ndarray, "PIL.Image.Image"]   # noqa: F821 (Pillow loads on first use)


@dataclass
class Picture:
    """A decoded image: grey ink values in [0, 1] (1 = ink), (height, width), and where it came from."""

    ink: np.ndarray
    origin: str


def read_picture(item: ImageInput, max_pixels: int = MAX_PIXELS, origin: str = "") -> Picture:
    """A path, the bytes of a file, a Pillow image or an array (height, width[, channels]) → `Picture`; bad input
    is a `UserError` naming the file."""
    from PIL import Image

    if isinstance(item, np.ndarray):
        return Picture(_array_ink(item, origin or "<array>"), origin or "<array>")
    if isinstance(item, Image.Image):
        return Picture(_ink(item, origin or "<image>"), origin or "<image>")
    name = origin or ("<bytes>" if isinstance(item, bytes) else str(item))
    source = io.BytesIO(item) if isinstance(item, bytes) else item
    if not isinstance(item, bytes) and not Path(item).is_file():
        raise UserError(f"{name}: no such image file")
    image = _open(source, name, max_pixels)
    return Picture(_ink(image, name), name)


def _open(source, name: str, max_pixels: int):
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None     # our own limit, named, below
        try:
            image = Image.open(source)
        except UnidentifiedImageError:
            raise UserError(f"{name}: not an image Pillow can read (PNG, JPEG, TIFF, BMP, GIF, WebP, ...)") from None
        except OSError as exc:
            raise UserError(f"{name}: cannot read the image ({exc})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous
    width, height = image.size
    if width * height > max_pixels:
        raise UserError(f"{name}: {width:,} × {height:,} = {width * height:,} pixels, over the limit of "
                        f"{max_pixels:,} (data.max_pixels)")
    if min(width, height) < MIN_SIDE:
        raise UserError(f"{name}: {width} × {height} pixels, too small to read (at least {MIN_SIDE} × {MIN_SIDE})")
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        warn(f"{name}: {frames} frames (an animation or a multi-page file); reading the first")
        image.seek(0)
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UserError(f"{name}: the image data is damaged or truncated ({exc})") from None
    return image


def _ink(image, name: str) -> np.ndarray:
    """Ink in [0, 1] (height, width) of a loaded Pillow image of any mode."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        grey = np.clip(values / top, 0.0, 1.0)
    else:
        if image.mode == "P" and "transparency" in image.info:
            image = image.convert("RGBA")
        if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, image.convert("RGBA"))
        grey = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    if grey.ndim != 2:
        raise UserError(f"{name}: unexpected image layout {grey.shape}")
    return (1.0 - grey).astype(np.float32)


def _array_ink(array: np.ndarray, name: str) -> np.ndarray:
    """An array (height, width) of grey values or (height, width, 3 or 4) colours: uint8 0–255, uint16 0–65535, or
    floats in [0, 1]; paper is light, ink dark (as in an image file)."""
    from PIL import Image

    a = np.asarray(array)
    if a.ndim not in (2, 3) or min(a.shape[:2]) < MIN_SIDE:
        raise UserError(f"{name}: expected (height, width) or (height, width, channels) of at least {MIN_SIDE} × "
                        f"{MIN_SIDE} pixels, got shape {a.shape}")
    if a.dtype == np.uint8:
        return _ink(Image.fromarray(a), name)
    scale = 65535.0 if a.dtype == np.uint16 else 1.0
    values = np.clip(a.astype(np.float64) / scale, 0.0, 1.0)
    if values.ndim == 3:                     # colour: luminance (ITU-R 601, as Pillow's "L"); else the first channel
        values = values[..., :3] @ np.array([0.299, 0.587, 0.114]) if values.shape[-1] >= 3 else values[..., 0]
    return (1.0 - values).astype(np.float32)


def to_columns(ink: np.ndarray, height: int, max_width: int, name: str = "") -> torch.Tensor:
    """(width', height) columns of `ink` (height, width) scaled to `height` rows, keeping the aspect ratio; an image
    wider than `max_width` after scaling is refused (data.max_width)."""
    from PIL import Image

    rows, cols = ink.shape
    width = max(1, round(cols * height / rows))
    if width > max_width:
        raise UserError(f"{name or 'image'}: {width:,} columns at height {height}, over data.max_width={max_width:,}")
    scaled = Image.fromarray(ink, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(scaled, dtype=np.float32).T.copy())     # (width, height)


def image_of_columns(columns: torch.Tensor) -> np.ndarray:
    """The picture of (width, height) columns, for attention plots: (height, width), paper 1, ink 0."""
    return 1.0 - columns.T.clamp(0, 1).numpy()
