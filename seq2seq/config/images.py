"""The images side of image_to_text: manifests of images, the built-in rendered lines and handwritten digit
strings, how images are scaled, and training-time augmentation."""

from __future__ import annotations

from typing import Optional, Union

from pydantic import Field, model_validator

from .base import Strict
from .text import check_held_out, split_seed_field, valid_split_field

DEFAULT_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


class RenderedLinesConfig(Strict):
    """Lines of text rendered in system fonts (data/images/rendered.py): training in `fonts`, validation and test
    half in `fonts` (unseen lines), half in `unseen_fonts` (fonts training never saw)."""

    texts: list[str] = Field([], description="text files the lines come from (each TSV field is a line; paths "
                                             "relative to the config); empty: random strings of `alphabet`")
    alphabet: str = Field(DEFAULT_ALPHABET, min_length=2, description="characters of the random strings (no texts)")
    fonts: list[str] = Field(["DejaVuSans", "DejaVuSerif"], min_length=1,
                             description="training fonts: file stems of fonts in /usr/share/fonts (or paths)")
    unseen_fonts: list[str] = Field([], description="fonts only validation and test use (half their lines)")
    sizes: tuple[int, int] = Field((20, 40), description="font sizes in pixels, uniform in this range")
    degrade: float = Field(0.5, ge=0, le=1, description="degradation strength: training draws each image's in "
                                                        "[0, degrade], validation and test use degrade")
    min_chars: int = Field(1, gt=0, description="shortest line")
    max_chars: int = Field(40, gt=0, description="longer lines are cut at a space")
    train_size: int = Field(20000, gt=0, description="training lines")
    valid_size: int = Field(400, gt=0, description="validation lines")
    test_size: int = Field(400, gt=0, description="test lines")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")

    @model_validator(mode="after")
    def _ranges(self) -> "RenderedLinesConfig":
        if not 4 <= self.sizes[0] <= self.sizes[1]:
            raise ValueError(f"sizes={list(self.sizes)}: expected [low, high] with 4 <= low <= high")
        if self.min_chars > self.max_chars:
            raise ValueError(f"min_chars ({self.min_chars}) must be <= max_chars ({self.max_chars})")
        return self


class HandwrittenDigitsConfig(Strict):
    """Strings of scikit-learn's 8 × 8 handwritten digits (data/images/digits.py), split by original image."""

    train_size: int = Field(20000, gt=0, description="training strings")
    valid_size: int = Field(500, gt=0, description="validation strings")
    test_size: int = Field(500, gt=0, description="test strings")
    min_digits: int = Field(1, gt=0, description="shortest string")
    max_digits: int = Field(8, gt=0, description="longest string")
    gap: tuple[int, int] = Field((0, 4), description="pixels between digits (of 8), uniform in this range")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")

    @model_validator(mode="after")
    def _ranges(self) -> "HandwrittenDigitsConfig":
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) must be <= max_digits ({self.max_digits})")
        if not 0 <= self.gap[0] <= self.gap[1]:
            raise ValueError(f"gap={list(self.gap)}: expected [low, high] with 0 <= low <= high")
        return self


class ImageAugmentConfig(Strict):
    """Distortions of training images only (data/images/augment.py); each drawn between none and its value."""

    rotate_deg: float = Field(1.5, ge=0, le=30, description="largest rotation, degrees")
    scale: float = Field(0.08, ge=0, lt=1, description="largest relative zoom in or out")
    elastic: float = Field(0.0, ge=0, description="elastic distortion, pixels of displacement (0: off)")
    blur: float = Field(0.8, ge=0, description="largest Gaussian blur sigma, pixels")
    noise: float = Field(0.1, ge=0, description="largest noise deviation (normalised units)")
    contrast: float = Field(0.2, ge=0, lt=1, description="largest relative contrast change")


class ImagesDataConfig(Strict):
    """Where image-and-text pairs come from: manifests (`train`, `valid`, `test`: a `.tsv` of `image<TAB>text`
    relative to it, or a folder of images each with a `.gt.txt`/`.txt` transcript), the built-in rendered lines
    (`lines`) or the built-in handwritten digit strings (`digits`). Exactly one."""

    root: Optional[str] = Field(None, description="folder the manifests are relative to")
    train: Optional[str] = Field(None, description="training manifest (.tsv) or folder of images")
    valid: Optional[str] = Field(None, description="validation manifest (absent: held out of train, valid_split)")
    valid_split: Optional[Union[int, float]] = valid_split_field("images")
    split_seed: int = split_seed_field()
    test: Optional[str] = Field(None, description="test manifest, recorded with the run; never read in training")
    lines: Optional[RenderedLinesConfig] = Field(None, description="render text lines in system fonts")
    digits: Optional[HandwrittenDigitsConfig] = Field(None, description="handwritten digit strings (scikit-learn)")
    height: int = Field(32, ge=8, le=256, description="every image is scaled to this many pixels high, keeping "
                                                      "its aspect ratio (the width is the sequence axis)")
    max_width: int = Field(4000, gt=0, description="widest image after scaling, in columns (wider are refused)")
    max_pixels: int = Field(40_000_000, gt=0, description="images with more pixels are refused before decoding "
                                                          "(decompression bombs)")
    augment: Optional[ImageAugmentConfig] = Field(None, description="distortions in training (null: off)")
    max_len: int = Field(4000, gt=0, description="training pairs longer than this (columns or tokens) are dropped")

    @model_validator(mode="after")
    def _one_source(self) -> "ImagesDataConfig":
        given = [name for name in ("train", "lines", "digits") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of train (a manifest), lines or digits (got "
                             f"{', '.join(given) or 'none'})")
        check_held_out(self.valid, self.valid_split)
        return self
