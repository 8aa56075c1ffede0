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

from ..data.audio.speech import feature_settings, features_of
from ..data.audio.wav import Audio, read_wav
from ..errors import UserError
from .frames_out import best_hypotheses, text_of
from .loading import Run, RunDirs, load_task_run, one_run
from .predictor import Evaluation, Samples, TestSet

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
        self.run_dir: Optional[Path] = None     # what it was loaded from (evaluate finds the run's test set there)

    @classmethod
    def load(cls, run_dir: RunDirs, which: str = "best", device: str = "cpu") -> "Transcriber":
        from ..tasks import SpeechToTextTask

        run_dir = one_run(run_dir, SpeechToTextTask.name)
        run = load_task_run(run_dir, which, device, SpeechToTextTask, "transcribing needs a speech_to_text run")
        transcriber = cls(run, next(run.model.parameters()).device)
        transcriber.run_dir = Path(run_dir)
        return transcriber

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
        hyps = best_hypotheses(self.run, frames, beam_size, batch_size, **search)
        reduction = self.model.encoder.reduction
        return [Transcript(*text_of(self.run, h), len(f), reduction, origin)
                for h, f, origin in zip(hyps, frames, origins)]

    @property
    def has_attention(self) -> bool:
        return self.model.decoder.has_attention

    def predict(self, inputs: Sequence[AudioInput], **options: Any) -> list[Transcript]:
        return self.transcribe(inputs, **options)

    def evaluate(self, test: TestSet, batch_size: Optional[int] = None, **search: Any) -> Evaluation:
        """WER and CER (jiwer's alignment) with substitutions, deletions and insertions, on `test.manifest` (a .tsv
        of path<TAB>transcript, or an LJSpeech metadata.csv) or the run's own test set."""
        from ..metrics import error_counts
        from .test_sets import speech_test_set

        if test.test or test.src or test.ref:
            raise UserError("a speech_to_text run is evaluated alone, on --manifest FILE (or its own test set)")
        found = speech_test_set(self.run_dir or Path("."), test.manifest)
        hyps = [t.text for t in self.transcribe(found.audio, batch_size=batch_size, **search)]
        counts = {unit: error_counts(hyps, found.references, unit) for unit in ("word", "char")}
        scores = {"test": found.origin, "clips": len(hyps), "wer": counts["word"].rate, "cer": counts["char"].rate,
                  **{f"{unit}_{k}": v for unit, c in counts.items() for k, v in vars(c).items()}}
        lines = [f"{found.origin}: {len(hyps):,} clips"] + [
            f"{name} = {c.rate:.2f}%   ({c.substitutions:,} substitutions, {c.deletions:,} deletions, "
            f"{c.insertions:,} insertions in {c.reference_length:,} reference {unit}s)"
            for name, unit, c in (("WER", "word", counts["word"]), ("CER", "char", counts["char"]))]
        return Evaluation(hyps, scores, lines)

    def attention_pictures(self, inputs: Sequence[str], out_dir: Path, formats: Sequence[str],
                           **search: Any) -> list[Path]:
        """Per WAV file: its log-mel spectrogram above the attention of every output token, on one time axis."""
        from ..plot import save_speech_alignment

        hop_ms, paths = self.config.data.features.hop_ms, []
        for number, name in enumerate(inputs, start=1):
            spectrogram = self.log_mel(name)
            [t] = self.transcribe_features([self.vocab.normalise(spectrogram)], [name], **search)
            if t.attention is None:
                raise UserError(f"{self.run_dir} has a vanilla decoder: there is no attention to plot")
            paths += save_speech_alignment(out_dir / f"attention-{number:03d}", spectrogram.numpy(), t.tokens,
                                           t.attention, t.reduction, hop_ms, formats, title=f"{name}: {t.text}")
        return paths

    def samples(self, count: int) -> Samples:
        from ..data.audio.speech import read_speech

        valid = read_speech(self.config.data, ("valid",))["valid"]
        names, refs = valid.names[:count], valid.texts[:count]
        frames = [self.vocab.normalise(f) for f in valid.frames[:count]]
        hyps = self.transcribe_features(frames, names, beam_size=1)
        return Samples("Sample transcripts", ("recording", "reference", "transcript"),
                       [(Path(n).name, r, h.text) for n, r, h in zip(names, refs, hyps)])

    def info(self) -> dict[str, Any]:
        data = self.config.data
        return {"vocab": {"target": self.vocab.text.vocab_size},
                "audio": {"max_seconds": data.max_seconds, "reduction": self.model.encoder.reduction,
                          "features": data.features.model_dump(mode="json")}}

    @staticmethod
    def _origin(item: AudioInput, number: int) -> str:
        if isinstance(item, Audio):
            return item.origin
        return f"<array {number}>" if isinstance(item, tuple) else str(item)
