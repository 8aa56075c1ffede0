"""Images → text: an image (a line of text, a digit string) scaled to a fixed height is a sequence of pixel
columns; a convolutional (or columns) frontend turns it into column features, and the same attention
encoder–decoder, search and validation as speech→text write the text (greedy CER, WER and exact match).

The examples come from manifests of image files, the rendered lines or the handwritten digit strings
(`data/images/`). The run keeps the per-row mean and deviation of the training images' ink (features.json), which
every image is normalised by, in training and at inference alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import torch

from ..config import ImageToTextConfig
from ..data.audio.features import Normalizer
from ..data.images.augment import augment_columns
from ..data.images.reading import image_of_columns
from ..data.images.splits import read_image_splits
from ..model.frontends import ConvImageFrontend, FrameFrontend
from ..model.guided_attention import GuidedAttention
from ..model.seq2seq import Seq2Seq
from ..rundir import RunDir
from ..search import validation_options
from .base import Splits
from .frames import FramesTextData, FramesVocab
from .frames_to_text import FramesToTextTask


class ImageToTextTask(FramesToTextTask):
    name = "image_to_text"
    predictor_class = "seq2seq.inference.reader:Reader"
    routes = "seq2seq.serving.reading:ROUTES"
    config_class = ImageToTextConfig
    pictures = " (images: the image above each output character's attention)"
    text_sides = ("tgt",)

    @property
    def feature_size(self) -> int:
        return self.config.data.height

    def read_data(self, splits: tuple[str, ...] = ("train", "valid")) -> Splits:
        return read_image_splits(self.config.data, splits)

    def build_vocab(self, data: Splits) -> FramesVocab:
        if self.config.tokenizer.from_run is not None:
            return self.load_vocab(Path(self.config.tokenizer.from_run))
        return FramesVocab(self.train_text_tokenizer(data["train"].texts), Normalizer.fit(list(data["train"].frames)))

    def load_vocab(self, run_dir: Path) -> FramesVocab:
        return FramesVocab.load(run_dir, audio=True)        # the images' normaliser is features.json, as audio's

    def augmenter(self) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
        """data.augment's distortions of training images, drawn from a generator seeded from the global one (saved
        in train_state.pt): a resumed run distorts exactly as an uninterrupted one."""
        settings = self.config.data.augment
        if settings is None:
            return None

        def augment(columns: torch.Tensor) -> torch.Tensor:                   # (width, height)
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
            return augment_columns(columns, generator, **settings.model_dump())
        return augment

    def build_model(self, vocab: FramesVocab) -> Seq2Seq:
        m = self.config.model
        f = m.frontend
        size = f.size or m.embedding_size
        frontend = (ConvImageFrontend(self.feature_size, size, f.channels, f.pool_width, f.dropout)
                    if f.kind == "conv" else FrameFrontend(self.feature_size, size, f.stack, f.dropout))
        guided = [GuidedAttention(m.guided_attention, m.guided_width)] if m.guided_attention else []
        return self.text_model(frontend, vocab, guided)

    def describe_model(self, model: Seq2Seq) -> str:
        m = self.config.model
        frontend = (f"conv {m.frontend.channels}" if m.frontend.kind == "conv"
                    else f"columns (stack {m.frontend.stack})")
        return (f"image {self.feature_size} px high → {frontend} (÷{model.encoder.reduction} columns) → "
                f"{m.decoder.family} decoder → tokens, {m.encoder.rnn}/{m.decoder.rnn}, "
                f"{model.num_parameters():,} parameters")

    @torch.no_grad()
    def after_validation(self, model, data: FramesTextData, vocab: FramesVocab, run_dir: Path, step: int) -> None:
        """The first `train.attention_plots` validation images with each output token's attention below, as
        `seq2seq attention` draws them: RUN/attention/valNN/stepNNNNNNN.png (+ .json)."""
        from ..plot import save_image_alignment

        count = min(self.config.train.attention_plots, len(data.valid_src))
        if not count or not model.decoder.has_attention:
            return
        model.eval()
        frames = data.valid_src[:count]
        hyps = self.decode(model, frames, validation_options(self.config.decode), count)
        model.train()
        for i, (columns, h, ref) in enumerate(zip(frames, hyps, data.valid_refs)):
            tokens = vocab.text.pieces(h[0].tokens) + (["</s>"] if h[0].finished else [])
            picture = image_of_columns(vocab.denormalise(columns))
            save_image_alignment(RunDir(run_dir).picture(i, step), picture, tokens, h[0].attention.numpy(),
                                 model.encoder.reduction,
                                 title=f"step {step:,}: {vocab.text.decode(h[0].tokens)} (reference: {ref})")
