"""Python API for images → text: load an image_to_text run and read image files, their bytes, Pillow images or
arrays.

    from seq2seq import load
    reader = load("runs/ocr_lines")
    [r] = reader.read(["line.png"])                 # or bytes, a PIL.Image, a (height, width[, 3]) array
    r.text, r.score, r.tokens, r.attention          # attention: (len(tokens), encoder states) or None
    r.columns, r.reduction                          # image columns at the run's height, and columns per state
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from ..data.images.reading import ImageInput, image_of_columns, read_picture, to_columns
from ..errors import UserError
from .frames_out import best_hypotheses, text_of
from .loading import Run, RunDirs, load_task_run, one_run
from .predictor import Evaluation, Samples, TestSet


@dataclass
class Reading:
    text: str                        # what the image says
    score: float                     # log-probability (sum over tokens, EOS included)
    tokens: list[str]                # output pieces; ends with "</s>" when the model stopped by itself
    attention: Optional[np.ndarray]  # (len(tokens), encoder states) weights, rows sum to 1; None for vanilla
    columns: int                     # pixel columns of the image at the run's height
    reduction: int                   # columns per encoder state
    origin: str = ""                 # the file, or "<array N>"


class Reader:
    """An image_to_text run: image → grey ink scaled to the run's height → normalised by the run's training
    statistics → greedy or beam search → text."""

    def __init__(self, run: Run, device: torch.device | str = "cpu"):
        self.run, self.config, self.model, self.vocab = run, run.config, run.model, run.vocab
        self.device = device
        self.run_dir: Optional[Path] = None

    @classmethod
    def load(cls, run_dir: RunDirs, which: str = "best", device: str = "cpu") -> "Reader":
        from ..tasks import ImageToTextTask

        run_dir = one_run(run_dir, ImageToTextTask.name)
        run = load_task_run(run_dir, which, device, ImageToTextTask, "reading images needs an image_to_text run")
        reader = cls(run, next(run.model.parameters()).device)
        reader.run_dir = Path(run_dir)
        return reader

    def columns(self, item: ImageInput, number: int = 0, origin: str = "") -> torch.Tensor:
        """(width, height) ink columns of one input at the run's height, before normalisation; `origin` names it
        in messages (default: the path, or "<array N>")."""
        data = self.config.data
        picture = read_picture(item, data.max_pixels, origin or self._origin(item, number))
        return to_columns(picture.ink, data.height, data.max_width, picture.origin)

    def features(self, item: ImageInput, number: int = 0, origin: str = "") -> torch.Tensor:
        """(width, height) normalised columns: what the model reads."""
        return self.vocab.normalise(self.columns(item, number, origin))

    def read(self, inputs: Sequence[ImageInput], beam_size: Optional[int] = None, batch_size: Optional[int] = None,
             **search: Any) -> list[Reading]:
        """One `Reading` per input, in order. search: alpha, max_len_a, ... as for translation."""
        frames = [self.features(item, number) for number, item in enumerate(inputs, start=1)]
        return self.read_features(frames, [self._origin(i, n) for n, i in enumerate(inputs, start=1)],
                                  beam_size, batch_size, **search)

    def read_features(self, frames: list[torch.Tensor], origins: Sequence[str], beam_size: Optional[int] = None,
                      batch_size: Optional[int] = None, **search: Any) -> list[Reading]:
        hyps = best_hypotheses(self.run, frames, beam_size, batch_size, **search)
        reduction = self.model.encoder.reduction
        return [Reading(*text_of(self.run, h), len(f), reduction, origin)
                for h, f, origin in zip(hyps, frames, origins)]

    @property
    def has_attention(self) -> bool:
        return self.model.decoder.has_attention

    def predict(self, inputs: Sequence[ImageInput], **options: Any) -> list[Reading]:
        return self.read(inputs, **options)

    def evaluate(self, test: TestSet, batch_size: Optional[int] = None, **search: Any) -> Evaluation:
        """CER, WER (jiwer's alignment, with substitutions, deletions and insertions) and exact lines on
        `test.manifest` (a .tsv of image<TAB>text, or a folder of images with transcripts) or the run's own test
        set (data.test, or the generated test split)."""
        from ..metrics import error_counts, exact_match

        if test.test or test.src or test.ref:
            raise UserError("an image_to_text run is evaluated on --manifest FILE.tsv (or its own test set)")
        split, origin = self._test_split(test.manifest)
        frames = [self.vocab.normalise(f) for f in split.frames]
        hyps = [r.text for r in self.read_features(frames, split.names, batch_size=batch_size, **search)]
        counts = {unit: error_counts(hyps, split.texts, unit) for unit in ("word", "char")}
        exact = exact_match(hyps, split.texts)
        scores = {"test": origin, "images": len(hyps), "cer": counts["char"].rate, "wer": counts["word"].rate,
                  "exact": exact, **{f"{unit}_{k}": v for unit, c in counts.items() for k, v in vars(c).items()}}
        lines = [f"{origin}: {len(hyps):,} images; exact lines {exact:.2f}%"] + [
            f"{name} = {c.rate:.2f}%   ({c.substitutions:,} substitutions, {c.deletions:,} deletions, "
            f"{c.insertions:,} insertions in {c.reference_length:,} reference {unit}s)"
            for name, unit, c in (("CER", "char", counts["char"]), ("WER", "word", counts["word"]))]
        return Evaluation(hyps, scores, lines)

    def attention_pictures(self, inputs: Sequence[str], out_dir: Path, formats: Sequence[str],
                           **search: Any) -> list[Path]:
        """Per image: the image at the run's height above the attention of every output token, column by column."""
        from ..plot import save_image_alignment

        paths = []
        for number, name in enumerate(inputs, start=1):
            columns = self.columns(name, number)
            [r] = self.read_features([self.vocab.normalise(columns)], [name], **search)
            if r.attention is None:
                raise UserError(f"{self.run_dir} has a vanilla decoder: there is no attention to plot")
            paths += save_image_alignment(out_dir / f"attention-{number:03d}", image_of_columns(columns), r.tokens,
                                          r.attention, r.reduction, formats, title=f"{name}: {r.text}")
        return paths

    def samples(self, count: int) -> Samples:
        from ..data.images.splits import read_image_splits

        valid = read_image_splits(self.config.data, ("valid",))["valid"]
        names, refs = valid.names[:count], valid.texts[:count]
        hyps = self.read_features([self.vocab.normalise(f) for f in valid.frames[:count]], names, beam_size=1)
        return Samples("Sample readings", ("image", "reference", "reading"),
                       [(Path(n).name, r, h.text) for n, r, h in zip(names, refs, hyps)])

    def info(self) -> dict[str, Any]:
        data = self.config.data
        return {"vocab": {"target": self.vocab.text.vocab_size},
                "image": {"height": data.height, "max_width": data.max_width, "max_pixels": data.max_pixels,
                          "reduction": self.model.encoder.reduction}}

    def _test_split(self, manifest: Optional[str]):
        from ..data.images.manifest import read_images
        from ..data.images.splits import read_image_splits

        data = self.config.data
        if manifest is not None:
            return read_images(Path(manifest), data.height, data.max_width, data.max_pixels), manifest
        if data.train is not None and data.test is None:
            raise UserError(f"{self.run_dir} has no test set (data.test is not set): give --manifest FILE.tsv "
                            f"(image<TAB>text)")
        split = read_image_splits(data, ("test",))["test"]
        return split, data.test or "the generated test split"

    @staticmethod
    def _origin(item: Any, number: int) -> str:
        if isinstance(item, (str, Path)):
            return str(item)
        return "<bytes>" if isinstance(item, bytes) else f"<array {number}>"
