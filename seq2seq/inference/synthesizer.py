"""Python API for text → speech: load a text_to_speech run trained on audio and synthesise WAV-ready waveforms.

    from seq2seq import load
    voice = load("runs/fsdd_tts")
    [s] = voice.synthesize(["three five seven"])
    s.samples, s.sample_rate, s.mel, s.attention, s.stopped     # float32 waveform, its rate, log-mel frames, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from ..data.audio.speech import feature_settings
from ..data.audio.vocoder import mel_to_audio
from ..data.audio.wav import wav_bytes
from ..data.text.tokenizers import UNK
from ..errors import UserError, warn
from .loading import Run, RunDirs, load_task_run, one_run
from .predictor import Evaluation, Media, Samples, TestSet

MAX_CHARS = 400            # longer texts are refused: one utterance, generated in bounded time
LISTENING = 4              # validation sentences the report plays (each real recording and its synthesis)


@dataclass
class Synthesis:
    text: str
    samples: np.ndarray               # (n,) float32 in [-1, 1]
    sample_rate: int
    tokens: list[str]                 # the input pieces the model read (unknown symbols dropped)
    mel: np.ndarray                   # (frames, n_mels) log-mel the model wrote (denormalised)
    attention: Optional[np.ndarray]   # (decoder steps, input tokens) or None (vanilla)
    stopped: bool                     # the stop flag ended it (False: it ran to its step limit, model.head.max_steps
                                      # or max_steps_per_token)


class Synthesizer:
    """A text_to_speech run: text → tokens → frames (the frame head, until its stop flag) → denormalised log-mel →
    Griffin-Lim → waveform at the training clips' sample rate."""

    def __init__(self, run: Run, device: torch.device | str = "cpu"):
        self.run, self.config, self.model, self.vocab = run, run.config, run.model, run.vocab
        self.device = device
        if self.vocab.frames is None:
            raise UserError("the run was trained on the synthetic frames task, not audio: nothing to synthesise")
        if self.vocab.sample_rate is None:
            raise UserError("the run's features.json does not say the training sample rate (a run from before it "
                            "was recorded): train it again")

    @classmethod
    def load(cls, run_dir: RunDirs, which: str = "best", device: str = "cpu") -> "Synthesizer":
        from ..tasks import TextToSpeechTask

        run_dir = one_run(run_dir, TextToSpeechTask.name)
        run = load_task_run(run_dir, which, device, TextToSpeechTask, "synthesis needs a text_to_speech run")
        return cls(run, next(run.model.parameters()).device)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text; empty and over-long texts are refused, unknown symbols dropped with a warning."""
        out = []
        for number, text in enumerate(texts, start=1):
            if not text.strip():
                raise UserError(f"text {number} is empty: nothing to say")
            if len(text) > MAX_CHARS:
                raise UserError(f"text {number} has {len(text):,} characters, more than the limit of {MAX_CHARS}: "
                                f"split it into sentences")
            ids = self.vocab.text.encode(text)
            if UNK in ids:
                warn(f"text {number}: {' '.join(map(repr, self.vocab.text.unknown(text)))} not in the model's "
                     f"vocabulary: skipped")
                ids = [i for i in ids if i != UNK]
            if not ids:
                raise UserError(f"text {number} holds nothing the model knows")
            out.append(ids)
        return out

    def synthesize(self, texts: Sequence[str], iterations: int = 60, seed: int = 0) -> list[Synthesis]:
        """One `Synthesis` per text, in order. iterations: Griffin-Lim's (more: cleaner phase, slower). The seed fixes
        both random parts — the prenet's dropout, on at inference as in Tacotron, and Griffin-Lim's first phase —
        so the same texts and seed give the same samples."""
        ids = self.encode(texts)
        with torch.random.fork_rng(devices=[]):               # the caller's random state is left as it was
            torch.manual_seed(seed)
            outputs = self.run.task.synthesize(self.model, ids)
        settings = feature_settings(self.config.data)
        results = []
        for text, out, text_ids in zip(texts, outputs, ids):
            mel = self.vocab.denormalise(out.frames.float().cpu())                      # (frames, n_mels)
            samples = mel_to_audio(mel, self.vocab.sample_rate, settings, iterations=iterations, seed=seed)
            attention = None if out.attention is None else out.attention.cpu().numpy()
            results.append(Synthesis(text, samples, self.vocab.sample_rate, self.vocab.text.pieces(text_ids),
                                     mel.numpy(), attention, out.stopped))
        return results

    @property
    def has_attention(self) -> bool:
        return self.model.decoder.has_attention

    def predict(self, inputs: Sequence[str], **options: Any) -> list[Synthesis]:
        return self.synthesize(inputs, **options)

    def evaluate(self, test: TestSet, batch_size: Optional[int] = None, **search: Any) -> Evaluation:
        raise UserError("evaluate scores text outputs; a text_to_speech run is judged by listening, or by a "
                        "recogniser (experiments/tts_intelligibility.py)")

    def attention_pictures(self, inputs: Sequence[str], out_dir: Path, formats: Sequence[str],
                           **search: Any) -> list[Path]:
        """Per text: the generated spectrogram above each input token's attention over the decoder steps."""
        from ..plot import save_speech_alignment

        hop_ms, r, paths = self.config.data.features.hop_ms, self.config.model.head.reduction, []
        for number, result in enumerate(self.synthesize(inputs, iterations=1), start=1):
            if result.attention is None:
                raise UserError("the run has a vanilla decoder: there is no attention to plot")
            paths += save_speech_alignment(out_dir / f"attention-{number:03d}", result.mel, result.tokens,
                                           result.attention.T, r, hop_ms, formats, title=result.text, rows="input")
        return paths

    def samples(self, count: int) -> Samples:
        """The listening table: the first validation sentences (at most `LISTENING`), each real recording (a player
        where its file is readable, and the log-mel training read) beside its synthesis (a player and its log-mel)."""
        from ..plot import spectrogram_png

        split = self.run.task.read_data(("valid",))["valid"]
        count = min(count, LISTENING, len(split))
        hop_ms = self.config.data.features.hop_ms
        rows = []
        for i, s in enumerate(self.synthesize(split.texts[:count])):
            real = (Media("image", spectrogram_png(split.frames[i].numpy(), hop_ms), "real log-mel"),)
            if i < len(split.names) and Path(split.names[i]).is_file():
                real = (Media("audio", Path(split.names[i]).read_bytes(), "recording"),) + real
            ours = (Media("audio", wav_bytes(s.samples, s.sample_rate), "synthesis"),
                    Media("image", spectrogram_png(s.mel, hop_ms), "synthesised log-mel"))
            rows.append((s.text + ("" if s.stopped else " (no stop: ran to the step limit)"), real, ours))
        return Samples("Listening", ("text", "real recording", "synthesis (Griffin-Lim)"), rows)

    def info(self) -> dict[str, Any]:
        head = self.config.model.head
        return {"vocab": {"source": self.vocab.text.vocab_size},
                "audio": {"sample_rate": self.vocab.sample_rate, "reduction": head.reduction,
                          "max_steps": head.max_steps, "max_steps_per_token": head.max_steps_per_token,
                          "features": self.config.data.features.model_dump(mode="json")}}
