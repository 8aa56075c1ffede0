"""Python API for speech → text: load a speech_to_text run and transcribe WAV files or sample arrays.

    from seq2seq import load
    recogniser = load("runs/fsdd_digits")
    [t] = recogniser.transcribe(["three_five.wav"])        # or (samples, sample_rate) pairs
    t.text, t.score, t.tokens, t.attention                  # attention: (len(tokens), encoder states) or None
    t.frames, t.reduction                                   # feature frames, and frames per encoder state
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from .checkpoint import Run, load_task_run
from .data.audio import Audio, read_wav
from .data.batching import pad_frames
from .data.speech import feature_settings, features_of
from .errors import UserError
from .search import decode_all, search_options

AudioInput = Union[str, Path, Audio, tuple[np.ndarray, int]]    # a WAV path, or (samples, sample rate)


@dataclass
class Transcript:
    text: str                        # the transcript
    score: float                     # log-probability (sum over tokens, EOS included)
    tokens: list[str]                # output pieces; ends with "</s>" when the model stopped by itself
    attention: Optional[np.ndarray]  # (len(tokens), encoder states) weights, rows sum to 1; None for vanilla
    frames: int                      # feature frames of the input (100 a second by default)
    reduction: int                   # feature frames per encoder state (frame stacking × pyramid halvings)
    origin: str = ""                 # the file, or "<array N>"


class Transcriber:
    """A speech_to_text run: audio → log-mel frames (its settings, at each file's own sample rate) → normalised
    by the run's training statistics → greedy or beam search → text."""

    def __init__(self, run: Run, device: torch.device | str = "cpu"):
        self.run, self.config, self.model, self.vocab = run, run.config, run.model, run.vocab
        self.device = device

    @classmethod
    def load(cls, run_dir: str | Path, which: str = "best", device: str = "cpu") -> "Transcriber":
        from .tasks import SpeechToTextTask

        run = load_task_run(run_dir, which, device, SpeechToTextTask, "transcribing needs a speech_to_text run")
        return cls(run, next(run.model.parameters()).device)

    def features(self, item: AudioInput, number: int = 0) -> torch.Tensor:
        """(frames, n_mels) normalised features of one input: what the model reads."""
        return self.vocab.normalise(self.log_mel(item, number))

    def log_mel(self, item: AudioInput, number: int = 0) -> torch.Tensor:
        """(frames, n_mels) log-mel features of one input, before normalisation (what a spectrogram shows)."""
        return features_of(self.audio(item, number), feature_settings(self.config.data))

    def audio(self, item: AudioInput, number: int = 0) -> Audio:
        if isinstance(item, Audio):
            return item
        if isinstance(item, tuple):
            samples, rate = item
            return Audio(np.asarray(samples, dtype=np.float32).reshape(-1), int(rate), f"<array {number}>")
        return read_wav(item, self.config.data.max_seconds)

    def transcribe(self, inputs: Sequence[AudioInput], beam_size: Optional[int] = None,
                   batch_size: Optional[int] = None, **search: Any) -> list[Transcript]:
        """One `Transcript` per input, in order. search: alpha, beta, max_len_a, ... as for translation."""
        frames = [self.features(item, number) for number, item in enumerate(inputs, start=1)]
        return self.transcribe_features(frames, [self._origin(i, n) for n, i in enumerate(inputs, start=1)],
                                        beam_size, batch_size, **search)

    def transcribe_features(self, frames: list[torch.Tensor], origins: Sequence[str], beam_size: Optional[int] = None,
                            batch_size: Optional[int] = None, **search: Any) -> list[Transcript]:
        dec = self.config.decode
        try:
            opts = search_options(dec, beam_size=beam_size, **{"attention": True, **search})
        except (TypeError, ValueError) as exc:
            raise UserError(str(exc)) from None
        hyps = decode_all(self.model, frames, opts, batch_size=batch_size or dec.batch_size, device=self.device,
                          collate=pad_frames)
        reduction = self.model.encoder.reduction
        return [self._transcript(h[0] if h else None, len(f), reduction, origin)
                for h, f, origin in zip(hyps, frames, origins)]

    def _transcript(self, hyp, frames: int, reduction: int, origin: str) -> Transcript:
        if hyp is None:                      # no frames at all
            return Transcript("", 0.0, [], None, frames, reduction, origin)
        tokens = self.vocab.text.pieces(hyp.tokens) + (["</s>"] if hyp.finished else [])
        attention = None if hyp.attention is None else hyp.attention.numpy()
        return Transcript(self.vocab.text.decode(hyp.tokens), hyp.score, tokens, attention, frames, reduction, origin)

    @staticmethod
    def _origin(item: AudioInput, number: int) -> str:
        if isinstance(item, Audio):
            return item.origin
        return f"<array {number}>" if isinstance(item, tuple) else str(item)
