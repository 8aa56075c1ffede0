"""Connected spoken digit strings ("three five seven"), built from recordings of single digits.

The recordings are the Free Spoken Digit Dataset's layout: one clip a file, named `{digit}_{speaker}_{index}.wav`
(8 kHz mono 16-bit in FSDD; any one sample rate works). `generate` draws, from a seed, utterances of one speaker
saying 1–7 random digits: a random clip of each digit from that speaker, among the clips whose index is in the
given range, joined by random pauses of digital silence, with a short pause at both ends. Each clip's leading
and trailing near-silence (frames 40 dB under its loudest) is trimmed first (`trim=True`): a fifth of FSDD's
clips carry some, a few up to 1 s, which would otherwise swamp the pauses drawn. Clips recorded with a noise
floor above that keep their noise. Clip indices 0–4 of FSDD are kept aside for independent evaluation (they are
not in the shared copy); the recipes train on indices 10–49 and validate on 5–9.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ...errors import UserError, warn
from ..shared import shared_data_dir
from .wav import read_wav, trim_silence

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
CLIP_NAME = re.compile(r"^([0-9])_(.+)_([0-9]+)\.wav$")          # digit, speaker, index
SHARED_RECORDINGS = Path("fsdd") / "recordings"

ClipIndex = dict[tuple[str, int], list[tuple[int, Path]]]        # (speaker, digit) -> [(index, path)] by index
Indices = Union[range, Sequence[int]]


@dataclass
class Utterance:
    samples: np.ndarray                 # (n,) float32 in [-1, 1]
    sample_rate: int                    # samples per second
    text: str                           # the digits as words, space-separated: "three five seven"
    speaker: str
    clips: list[str]                    # the file name of each digit's clip, in order
    spans: list[tuple[int, int]]        # where each clip lies in `samples`: [start, end) in samples


@dataclass(frozen=True)
class _Plan:
    min_digits: int
    max_digits: int
    pause_ms: tuple[float, float]       # between clips
    edge_ms: tuple[float, float]        # before the first clip and after the last


def shared_recordings() -> Optional[Path]:
    """The shared copy of FSDD's recordings folder, or None when it is absent."""
    shared = shared_data_dir()
    if shared is None or not (shared / SHARED_RECORDINGS).is_dir():
        return None
    return shared / SHARED_RECORDINGS


def index_clips(folder: Union[str, os.PathLike]) -> ClipIndex:
    """The `{digit}_{speaker}_{index}.wav` files of `folder` by (speaker, digit), each list sorted by index."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"spoken digit folder not found: {folder}")
    index: ClipIndex = {}
    for path in sorted(folder.iterdir()):
        match = CLIP_NAME.match(path.name)
        if match:
            index.setdefault((match[2], int(match[1])), []).append((int(match[3]), path))
    if not index:
        raise UserError(f"{folder}: no spoken digit clips (files named DIGIT_SPEAKER_INDEX.wav, e.g. 3_george_12.wav)")
    for clips in index.values():
        clips.sort()
    return index


def generate(folder: Union[str, os.PathLike], count: int, indices: Indices, seed: int, min_digits: int = 1,
             max_digits: int = 7, pause_ms: tuple[float, float] = (50, 250),
             speakers: Optional[Sequence[str]] = None, edge_ms: tuple[float, float] = (20, 100),
             trim: bool = True) -> list[Utterance]:
    """`count` utterances drawn from `seed`, using only the clips of `folder` whose index is in `indices`, from
    `speakers` (default: every speaker with clips of all ten digits there). Deterministic given the folder's
    files and the arguments."""
    plan = _Plan(min_digits, max_digits, tuple(pause_ms), tuple(edge_ms))
    _check_arguments(count, plan)
    pool = _speaker_pool(index_clips(folder), indices, speakers, Path(folder))
    rng = np.random.default_rng(seed)
    cache = _ClipCache(trim)
    return [_utterance(rng, pool, cache, plan) for _ in range(count)]


def _check_arguments(count: int, plan: _Plan) -> None:
    if count < 0:
        raise UserError(f"spoken digits: count must be 0 or more, not {count}")
    if not 1 <= plan.min_digits <= plan.max_digits:
        raise UserError(f"spoken digits: need 1 <= min_digits <= max_digits, not {plan.min_digits} and "
                        f"{plan.max_digits}")
    for name, (low, high) in (("pause_ms", plan.pause_ms), ("edge_ms", plan.edge_ms)):
        if not 0 <= low <= high:
            raise UserError(f"spoken digits: {name} must be (low, high) with 0 <= low <= high, not ({low}, {high})")


def _speaker_pool(index: ClipIndex, indices: Indices, speakers: Optional[Sequence[str]],
                  folder: Path) -> dict[str, list[list[Path]]]:
    """speaker -> ten lists (one a digit) of their clip paths with an index in `indices`, for the speakers who
    have clips of every digit there. Incomplete speakers are left out with a warning, or refused when named."""
    wanted = {int(i) for i in indices}
    if not wanted:
        raise UserError("spoken digits: no clip indices given")
    found = sorted({speaker for speaker, _digit in index})
    named = [speakers] if isinstance(speakers, str) else speakers
    unknown = [s for s in named or () if s not in found]
    if unknown:
        raise UserError(f"{folder}: no clips of speaker {', '.join(unknown)} (found: {', '.join(found)})")
    pool, incomplete = {}, []
    for speaker in named or found:
        by_digit = [[path for i, path in index.get((speaker, digit), []) if i in wanted] for digit in range(10)]
        missing = [WORDS[digit] for digit in range(10) if not by_digit[digit]]
        if missing:
            incomplete.append(f"{speaker} (no {', '.join(missing)})")
        else:
            pool[speaker] = by_digit
    _report_incomplete(incomplete, named is not None, not pool, folder, _describe(indices))
    return pool


def _report_incomplete(incomplete: list[str], named: bool, none_left: bool, folder: Path, indices: str) -> None:
    if not incomplete:
        return
    message = f"{folder}: speakers without clips of every digit with an index in {indices}: {'; '.join(incomplete)}"
    if named or none_left:
        raise UserError(message)
    warn(message + "; left out")


def _describe(indices: Indices) -> str:
    if isinstance(indices, range):
        return repr(indices)
    shown = ", ".join(str(i) for i in list(indices)[:8])
    return f"[{shown}{', ...' if len(indices) > 8 else ''}]"


class _ClipCache:
    """Decoded (and trimmed) clips by path for one `generate` call; all must share one sample rate."""

    def __init__(self, trim: bool):
        self.trim = trim
        self.sample_rate: Optional[int] = None
        self.first: Optional[Path] = None               # the clip that set the sample rate
        self.clips: dict[Path, np.ndarray] = {}         # path -> (n,) float32

    def get(self, path: Path) -> np.ndarray:
        if path not in self.clips:
            audio = read_wav(path)
            self._check_rate(audio.sample_rate, path)
            self.clips[path] = trim_silence(audio.samples, audio.sample_rate) if self.trim else audio.samples
        return self.clips[path]

    def _check_rate(self, sample_rate: int, path: Path) -> None:
        if self.sample_rate is None:
            self.sample_rate, self.first = sample_rate, path
        elif sample_rate != self.sample_rate:
            raise UserError(f"{path}: {sample_rate} Hz, but {self.first.name} is {self.sample_rate} Hz "
                            f"(resample all clips to one rate)")


def _utterance(rng: np.random.Generator, pool: dict[str, list[list[Path]]], cache: _ClipCache,
               plan: _Plan) -> Utterance:
    """One speaker, a random number of random digits, a random clip of each, random pauses."""
    speakers = list(pool)
    speaker = speakers[int(rng.integers(len(speakers)))]
    digits = rng.integers(0, 10, size=int(rng.integers(plan.min_digits, plan.max_digits + 1)))
    paths = [pool[speaker][digit][int(rng.integers(len(pool[speaker][digit])))] for digit in digits]
    pieces = [cache.get(path) for path in paths]
    gaps = _gaps(rng, len(pieces), cache.sample_rate, plan)
    samples, spans = _join(pieces, gaps)
    return Utterance(samples, cache.sample_rate, " ".join(WORDS[digit] for digit in digits), speaker,
                     [path.name for path in paths], spans)


def _gaps(rng: np.random.Generator, clips: int, sample_rate: int, plan: _Plan) -> list[int]:
    """clips + 1 pause lengths in samples: the leading edge, the pauses between clips, the trailing edge."""
    between = rng.uniform(*plan.pause_ms, size=clips - 1)
    milliseconds = [rng.uniform(*plan.edge_ms), *between, rng.uniform(*plan.edge_ms)]
    return [round(ms * sample_rate / 1000) for ms in milliseconds]


def _join(pieces: list[np.ndarray], gaps: list[int]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The pieces with gaps[0] zeros before, gaps[i] between pieces i-1 and i, gaps[-1] after; and their spans."""
    samples = np.zeros(sum(len(p) for p in pieces) + sum(gaps), dtype=np.float32)    # (n,)
    spans, start = [], gaps[0]
    for piece, gap in zip(pieces, gaps[1:]):
        samples[start:start + len(piece)] = piece
        spans.append((start, start + len(piece)))
        start += len(piece) + gap
    return samples, spans
