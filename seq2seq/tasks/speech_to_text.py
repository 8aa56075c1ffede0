"""Speech → text: log-mel feature frames in (a frame frontend with optional stacking, SpecAugment in training),
tokens out (the token head); search and validation are those of every frames → text task (`frames_to_text.py`)."""

from __future__ import annotations

from typing import Callable, Optional

import torch

from ..config import SpeechToTextConfig
from ..data.audio.features import spec_augment
from ..model.frontends import FrameFrontend
from ..model.seq2seq import Seq2Seq
from ..search import validation_options
from .frames import FramesTextData, FramesVocab
from .frames_to_text import FramesToTextTask


class SpeechToTextTask(FramesToTextTask):
    name = "speech_to_text"
    predictor_class = "seq2seq.inference.transcriber:Transcriber"
    routes = "seq2seq.serving.transcription:ROUTES"
    config_class = SpeechToTextConfig
    text_sides = ("tgt",)

    def augmenter(self) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
        """SpecAugment masks on training frames when data.spec_augment is set. Each utterance's masks are drawn
        from the global generator, which train_state.pt saves: a resumed run masks exactly as an uninterrupted one."""
        settings = self.config.data.spec_augment
        if settings is None:
            return None

        def augment(frames: torch.Tensor) -> torch.Tensor:                    # (n_frames, n_mels)
            generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
            return spec_augment(frames, generator, **settings.model_dump())
        return augment

    def build_model(self, vocab: FramesVocab) -> Seq2Seq:
        m = self.config.model
        frontend = FrameFrontend(self.feature_size, m.frontend.size or m.embedding_size, m.frontend.stack,
                                 m.frontend.dropout)
        return self.text_model(frontend, vocab)

    def describe_model(self, model: Seq2Seq) -> str:
        m = self.config.model
        return (f"frames (stack {m.frontend.stack}) → {m.decoder.family} decoder → tokens, "
                f"{m.encoder.rnn}/{m.decoder.rnn}, {model.num_parameters():,} parameters")

    def alignments(self, model: Seq2Seq, data: FramesTextData, vocab: FramesVocab, count: int) -> list[tuple]:
        """Greedy transcripts: each output token's attention over the encoder states (`reduction` frames each)."""
        frames = data.valid_src[:count]
        hyps = self.decode(model, frames, validation_options(self.config.decode), count)
        out = []
        for f, h, ref in zip(frames, hyps, data.valid_refs):
            tokens = vocab.text.pieces(h[0].tokens) + (["</s>"] if h[0].finished else [])
            out.append((vocab.denormalise(f).numpy(), tokens, h[0].attention.numpy(), model.encoder.reduction,
                        f"{vocab.text.decode(h[0].tokens)} (reference: {ref})"))
        return out

