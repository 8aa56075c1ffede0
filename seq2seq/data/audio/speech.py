"""Speech data for the frames tasks: clips with transcripts → log-mel frames (not yet normalised).

Where clips come from (`data` of a speech config):
- manifests: a `.tsv` of `path<TAB>transcript` (paths relative to the manifest's folder), or an LJSpeech
  `metadata.csv` (`id|raw text|normalised text`, audio in `wavs/ID.wav`; the normalised text is used);
- `digits`: connected spoken digit strings built from FSDD clips (`spoken_digits.generate`), each split from its
  own range of clip indices.
Without a `valid` manifest, validation clips are held out of train, grouped by transcript (`held_out.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence

import torch

from ...errors import UserError
from ..held_out import held_out_size, hold_out
from ..text.lines import Corpus, read_lines
from ..text.spoken import spoken_form
from . import spoken_digits
from .features import FeatureSettings, log_mel
from .perturb import change_speed
from .wav import Audio, read_wav, trim_silence


@dataclass
class SpeechSplit:
    """Log-mel frames and transcripts of one split (`FramesSplit`'s shape, plus where each clip came from)."""

    frames: list[torch.Tensor]                        # each (n_frames, n_mels)
    texts: list[str]
    names: list[str] = field(default_factory=list)    # the audio file (or the digit clips) of each example
    sample_rates: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def feature_settings(data) -> FeatureSettings:
    return FeatureSettings(**data.features.model_dump())


def features_of(audio: Audio, settings: FeatureSettings) -> torch.Tensor:
    """(n_frames, n_mels) log-mel frames of one clip at its own sample rate; problems name the file."""
    try:
        return log_mel(torch.from_numpy(audio.samples), audio.sample_rate, settings)
    except UserError as exc:
        raise UserError(f"{audio.origin}: {exc}") from None


def read_speech(data, splits: tuple[str, ...] = ("train", "valid")) -> dict[str, SpeechSplit]:
    """The requested splits of a speech `data` config (manifests or spoken digits), as log-mel frames."""
    settings = feature_settings(data)
    if data.digits is not None:
        return {split: _digits(data.digits, split, settings) for split in splits}
    listed = _manifests(data, splits)
    return {split: _featurise(_as_transcribed(corpus, data.transcripts), settings, data.max_seconds, data.trim_db,
                              (data.speed_perturb or [1.0]) if split == "train" else [1.0])
            for split, corpus in listed.items()}


# ---- manifests ----------------------------------------------------------------------------------------------

def _manifests(data, splits: tuple[str, ...]) -> dict[str, Corpus]:
    """(transcripts, audio paths) per split, as a `Corpus` (src: transcript, tgt: path) so held_out can split it."""
    names = {"train": data.train, "valid": data.valid, "test": data.test}
    if data.valid is None and "valid" in splits:
        train = read_manifest(Path(data.root or "."), data.train)
        held = dict(zip(("train", "valid"), hold_out(train, held_out_size(len(train), data.valid_split),
                                                      data.split_seed)))
        return {split: held[split] if split in held else read_manifest(Path(data.root or "."), names[split])
                for split in splits}
    missing = [split for split in splits if names[split] is None]
    if missing:
        raise UserError(f"data.{missing[0]} is not set: no {missing[0]} manifest")
    return {split: read_manifest(Path(data.root or "."), names[split]) for split in splits}


def read_manifest(root: Path, name: str) -> Corpus:
    """A manifest's (transcript, audio path) pairs; an LJSpeech metadata.csv when its name ends in .csv."""
    path = root / name
    lines = read_lines(path, warn_crlf=True)
    pairs = [_ljspeech_line(path, n, line) if path.suffix == ".csv" else _tsv_line(path, n, line)
             for n, line in enumerate(lines, start=1) if line.strip()]
    if not pairs:
        raise UserError(f"manifest is empty: {path}")
    return Corpus([text for text, _ in pairs], [str(audio) for _, audio in pairs], str(path))


def _tsv_line(manifest: Path, number: int, line: str) -> tuple[str, Path]:
    fields = line.split("\t")
    if len(fields) < 2:
        raise UserError(f"{manifest}: line {number} has no tab (expected path<TAB>transcript)")
    return fields[1].strip(), _audio_path(manifest, number, fields[0].strip())


def _ljspeech_line(manifest: Path, number: int, line: str) -> tuple[str, Path]:
    fields = line.split("|")
    if len(fields) < 2:
        raise UserError(f"{manifest}: line {number} is not `id|text|normalised text` (LJSpeech metadata)")
    text = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
    return text.strip(), _audio_path(manifest, number, f"wavs/{fields[0].strip()}.wav")


def _audio_path(manifest: Path, number: int, name: str) -> Path:
    path = Path(name) if Path(name).is_absolute() else manifest.parent / name
    if not path.is_file():
        raise UserError(f"{manifest}: line {number}: audio file not found: {path}")
    return path


def _as_transcribed(corpus: Corpus, form: str) -> Corpus:
    """The manifest's transcripts in the form `data.transcripts` names (as_written: unchanged)."""
    if form == "as_written":
        return corpus
    return replace(corpus, src=[spoken_form(text) for text in corpus.src])


def _featurise(corpus: Corpus, settings: FeatureSettings, max_seconds: float,
               trim_db: Optional[float] = None, speeds: Sequence[float] = (1.0,)) -> SpeechSplit:
    """Log-mel frames of each clip, once per speed factor (`speed_perturb`, training only); with `trim_db`, its
    leading and trailing frames quieter than that many dB under its loudest are cut first (a synthesiser learns to
    stop where the speech stops, not after a silence)."""
    clips = [read_wav(path, max_seconds) for path in corpus.tgt]
    if trim_db is not None:
        below = 10 ** (-trim_db / 20)
        clips = [Audio(trim_silence(c.samples, c.sample_rate, below), c.sample_rate, c.origin) for c in clips]
    out = SpeechSplit([], [], [], [])
    for speed in speeds:
        for clip, text, name in zip(clips, corpus.src, corpus.tgt):
            changed = Audio(change_speed(clip.samples, speed), clip.sample_rate, clip.origin)
            out.frames.append(features_of(changed, settings))
            out.texts.append(text)
            out.names.append(name)
            out.sample_rates.append(clip.sample_rate)
    return out


# ---- spoken digits ------------------------------------------------------------------------------------------

def _digits(digits, split: str, settings: FeatureSettings) -> SpeechSplit:
    indices: Optional[tuple[int, int]] = getattr(digits, f"{split}_indices")
    if indices is None:
        raise UserError(f"data.digits.{split}_indices is not set: no {split} strings")
    folder = Path(digits.recordings) if digits.recordings else spoken_digits.shared_recordings()
    if folder is None:
        raise UserError("data.digits.recordings is not set and the shared data has no fsdd/recordings "
                        "(set $SEQ2SEQ_SHARED_DATA or data.digits.recordings)")
    seed = digits.seed + {"train": 0, "valid": 1, "test": 2}[split]     # each split its own draw
    utterances = spoken_digits.generate(folder, getattr(digits, f"{split}_size"),
                                        range(indices[0], indices[1] + 1), seed, digits.min_digits,
                                        digits.max_digits, tuple(digits.pause_ms), digits.speakers,
                                        tuple(digits.edge_ms))
    frames = [features_of(Audio(u.samples, u.sample_rate, "+".join(u.clips)), settings) for u in utterances]
    return SpeechSplit(frames, [u.text for u in utterances], ["+".join(u.clips) for u in utterances],
                       [u.sample_rate for u in utterances])
