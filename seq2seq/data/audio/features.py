"""Speech features: log-mel frames of a recording, a per-feature normalizer fitted on the training set, and
SpecAugment's masks.

Each file is featurised at its own sample rate. Window and hop are set in milliseconds and become whole samples at
that rate (nearest sample); `n_fft` is the next power of two at or above the window. The spectrum is scaled so that
it does not depend on the rate: power is divided by the squared window sum (a sine of amplitude A peaks at A²/4 at
any rate), and pre-emphasis is applied as a weight on frequency in Hz (see `preemphasis_weight`). With an explicit
`f_max` below every file's Nyquist, 8 kHz and 16 kHz recordings of the same sound give close features.

Frames: `torch.stft(center=True)` with zero padding, so frame t is centred on sample t·hop and a recording of
n ≥ 1 samples has 1 + n // hop frames (`feature_frames`); an empty recording has none.

The mel filterbank is HTK's (mel = 2595·log10(1 + f/700)) with triangles of peak 1, no area normalisation.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from pydantic import ValidationError

from ...config import AudioFeaturesConfig, describe_invalid
from ...errors import UserError
from ...files import write_atomic

PREEMPHASIS_RATE = 16000   # the rate at which `preemphasis` is the usual x[t] - a·x[t-1] filter


class FeatureSettings(AudioFeaturesConfig):
    """The feature settings the audio code reads: the config's `data.features` section itself (one list of fields,
    `config/frames.py`), built from keywords with a bad value as a one-line `UserError`."""

    def __init__(self, **fields) -> None:
        try:
            super().__init__(**fields)
        except ValidationError as exc:
            raise UserError(f"features: {describe_invalid(exc)}") from None


# --- framing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Framing:
    win: int     # window length in samples
    hop: int     # hop in samples
    n_fft: int   # next power of two >= win


def framing(sample_rate: int, settings: FeatureSettings) -> Framing:
    """Window, hop and FFT size in samples at `sample_rate`."""
    win = round(settings.win_ms * sample_rate / 1000)
    hop = round(settings.hop_ms * sample_rate / 1000)
    if win < 1 or hop < 1:
        raise UserError(f"at {sample_rate} Hz a {settings.win_ms} ms window or {settings.hop_ms} ms hop is "
                        f"less than one sample")
    return Framing(win, hop, 1 << (win - 1).bit_length())


def feature_frames(n_samples: int, sample_rate: int, settings: FeatureSettings) -> int:
    """How many frames `log_mel` gives for `n_samples` samples: 1 + n // hop, or 0 for an empty recording."""
    if n_samples <= 0:
        return 0
    return 1 + n_samples // framing(sample_rate, settings).hop


def check_nyquist(sample_rate: int, settings: FeatureSettings) -> None:
    """A `UserError` when `settings.f_max` lies above what a recording at `sample_rate` can hold (the caller adds
    the file's name)."""
    nyquist = sample_rate / 2
    if settings.f_max is not None and settings.f_max > nyquist:
        raise UserError(f"recorded at {sample_rate} Hz holds nothing above {nyquist:g} Hz but features.f_max is "
                        f"{settings.f_max:g} Hz; lower features.f_max to {nyquist:g} or less")


# --- mel filterbank ------------------------------------------------------------------------------------------


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + hz / 700.0)


def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_centres(n_mels: int, f_min: float, f_max: float) -> torch.Tensor:
    """The n_mels + 2 edge and centre frequencies in Hz, evenly spaced in mel from f_min to f_max (float64)."""
    ends = hz_to_mel(torch.tensor([f_min, f_max], dtype=torch.float64))
    return mel_to_hz(torch.linspace(float(ends[0]), float(ends[1]), n_mels + 2, dtype=torch.float64))


@functools.lru_cache(maxsize=16)        # one per (rate, settings): every clip reuses it; callers never modify it
def mel_filterbank(n_freqs: int, sample_rate: int, n_mels: int, f_min: float, f_max: float) -> torch.Tensor:
    """Triangular HTK mel filters over the `n_freqs` bins of a one-sided spectrum (bin k at k·rate / n_fft):
    filter m rises from 0 at point m to 1 at point m+1 and falls to 0 at point m+2 of `mel_centres`; 0 outside
    [f_min, f_max]. Peak 1, no area normalisation. Returns (n_freqs, n_mels) float32."""
    points = mel_centres(n_mels, f_min, f_max)                                  # (n_mels + 2,)
    lo, centre, hi = points[:-2], points[1:-1], points[2:]                      # (n_mels,) each
    freqs = torch.linspace(0.0, sample_rate / 2, n_freqs, dtype=torch.float64)[:, None]   # (n_freqs, 1)
    rising = (freqs - lo) / (centre - lo)                                       # (n_freqs, n_mels)
    falling = (hi - freqs) / (hi - centre)                                      # (n_freqs, n_mels)
    return torch.minimum(rising, falling).clamp(min=0.0).float()


def preemphasis_weight(freqs: torch.Tensor, coefficient: float) -> torch.Tensor:
    """The power response |1 - a·e^(-2πi f / 16000)|² of the usual pre-emphasis filter at 16 kHz, as a function of
    frequency in Hz (held at its 8 kHz value above 8 kHz, where it would fall again). Applied to the spectrum, it
    tilts every file alike whatever its rate; the filter itself, run on the samples, would weight 1 kHz about
    4x more at 8 kHz than at 16 kHz."""
    omega = 2 * math.pi * freqs.clamp(max=PREEMPHASIS_RATE / 2) / PREEMPHASIS_RATE
    return 1 + coefficient ** 2 - 2 * coefficient * torch.cos(omega)


# --- log-mel -------------------------------------------------------------------------------------------------


def power_spectrum(samples: torch.Tensor, f: Framing) -> torch.Tensor:
    """|STFT|² / (window sum)², Hann window, frames centred on t·hop with zero padding. (n_fft // 2 + 1, frames)"""
    window = torch.hann_window(f.win, periodic=True, dtype=samples.dtype)
    spec = torch.stft(samples, f.n_fft, hop_length=f.hop, win_length=f.win, window=window, center=True,
                      pad_mode="constant", return_complex=True)                 # (n_fft // 2 + 1, frames)
    return spec.abs().square() / window.sum().square()


def log_mel(samples: torch.Tensor, sample_rate: int, settings: FeatureSettings) -> torch.Tensor:
    """Log-mel features of a mono recording (n,) at `sample_rate`: (feature_frames(n), n_mels), float32."""
    if samples.dim() != 1:
        raise ValueError(f"log_mel takes mono samples of shape (n,), not {tuple(samples.shape)}")
    check_nyquist(sample_rate, settings)
    if samples.numel() == 0:
        return torch.zeros(0, settings.n_mels)
    f = framing(sample_rate, settings)
    f_max = settings.f_max if settings.f_max is not None else sample_rate / 2
    power = power_spectrum(samples.float(), f)                                  # (n_freqs, frames)
    freqs = torch.linspace(0.0, sample_rate / 2, power.shape[0])                # (n_freqs,)
    if settings.preemphasis:
        power = power * preemphasis_weight(freqs, settings.preemphasis)[:, None]
    bank = mel_filterbank(power.shape[0], sample_rate, settings.n_mels, settings.f_min, f_max)  # (n_freqs, n_mels)
    mel = power.T @ bank                                                        # (frames, n_mels)
    return mel.clamp(min=settings.log_floor).log()


# --- normalisation -------------------------------------------------------------------------------------------


class Normalizer:
    """Per-feature standardisation: (frames - mean) / std with the training set's statistics."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        self.mean = mean.double()   # (n_features,)
        self.std = std.double()     # (n_features,)

    @classmethod
    def fit(cls, utterances: list[torch.Tensor], min_std: float = 1e-2) -> Normalizer:
        """Mean and (population) standard deviation of every feature over all frames of `utterances`, each
        (frames, n_features). Per-utterance moments are merged in float64 (Chan et al.), so large offsets do not
        cancel. A std below `min_std` (a constant feature) is raised to it."""
        count, mean, m2 = 0, None, None
        for frames in utterances:
            if frames.shape[0] == 0:
                continue
            if mean is not None and frames.shape[1] != mean.shape[0]:
                raise UserError(f"feature normalizer: utterances with {mean.shape[0]} and {frames.shape[1]} "
                                f"features per frame")
            count, mean, m2 = _merge(count, mean, m2, frames.double())
        if mean is None:
            raise UserError("feature normalizer: the training set has no frames to fit it on")
        if not (torch.isfinite(mean).all() and torch.isfinite(m2).all()):
            raise UserError("feature normalizer: the training features hold NaN or infinite values")
        return cls(mean, (m2 / count).sqrt().clamp(min=min_std))

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """(frames, n_features) -> (frames, n_features) in the input's dtype."""
        if frames.shape[-1] != self.mean.shape[0]:
            raise UserError(f"feature normalizer fitted on {self.mean.shape[0]} features per frame got "
                            f"{frames.shape[-1]}")
        return ((frames.double() - self.mean) / self.std).to(frames.dtype)

    def inverse(self, frames: torch.Tensor) -> torch.Tensor:
        """Normalised frames back to features: frames * std + mean, in the input's dtype."""
        return (frames.double() * self.std + self.mean).to(frames.dtype)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Normalizer:
        mean, std = (data.get("mean"), data.get("std")) if isinstance(data, dict) else (None, None)
        if not (isinstance(mean, list) and isinstance(std, list) and len(mean) == len(std) > 0
                and all(isinstance(v, (int, float)) for v in mean + std)):
            raise UserError("feature normalizer: expected equal, non-empty lists of numbers 'mean' and 'std'")
        mean_t, std_t = torch.tensor(mean, dtype=torch.float64), torch.tensor(std, dtype=torch.float64)
        if not (torch.isfinite(mean_t).all() and torch.isfinite(std_t).all() and (std_t > 0).all()):
            raise UserError("feature normalizer: 'mean' must be finite and 'std' finite and positive")
        return cls(mean_t, std_t)

    def save(self, path: Path) -> None:
        write_atomic(Path(path), (json.dumps(self.to_dict(), indent=1) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> Normalizer:
        return cls.from_file_record(cls.read_json(path), path)

    @classmethod
    def from_file_record(cls, data: dict, path: Path) -> Normalizer:
        """`from_dict` of what `read_json(path)` gave, its errors naming the file."""
        try:
            return cls.from_dict(data)
        except UserError as exc:
            raise UserError(f"{path}: {exc}") from None

    @staticmethod
    def read_json(path: Path) -> dict:
        """The JSON object of a normaliser file (it may hold more, e.g. a run's sample rate)."""
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"cannot read feature normalizer {path}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"feature normalizer {path} is not valid JSON: {exc}") from None


def _merge(count: int, mean: torch.Tensor | None, m2: torch.Tensor | None,
           frames: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Add one utterance's (frames, n_features) float64 moments to the running count, mean and sum of squared
    deviations."""
    n = frames.shape[0]
    batch_mean = frames.mean(0)                                                 # (n_features,)
    batch_m2 = (frames - batch_mean).square().sum(0)                            # (n_features,)
    if mean is None:
        return n, batch_mean, batch_m2
    total = count + n
    delta = batch_mean - mean
    return total, mean + delta * (n / total), m2 + batch_m2 + delta.square() * (count * n / total)


# --- SpecAugment ---------------------------------------------------------------------------------------------


def spec_augment(frames: torch.Tensor, generator: torch.Generator, freq_masks: int = 2, freq_width: int = 8,
                 time_masks: int = 2, time_width: int = 20, max_time_ratio: float = 0.2) -> torch.Tensor:
    """SpecAugment's masks (Park et al. 2019, without time warping) on normalised (T, F) frames: `freq_masks`
    bands of width uniform in [0, min(freq_width, F)] and `time_masks` spans of width uniform in
    [0, min(time_width, budget left)], where the budget is floor(max_time_ratio·T) frames in all; masked values
    are 0 (the normalised mean). Returns a new tensor; the same generator state gives the same masks."""
    if min(freq_masks, freq_width, time_masks, time_width) < 0 or not 0 <= max_time_ratio <= 1:
        raise UserError("spec_augment: mask counts and widths must be >= 0 and max_time_ratio in [0, 1]")
    out = frames.clone()                                                        # (T, F)
    steps, n_features = frames.shape
    for _ in range(freq_masks):
        start, width = _span(n_features, min(freq_width, n_features), generator)
        out[:, start:start + width] = 0
    budget = math.floor(max_time_ratio * steps)
    for _ in range(time_masks):
        start, width = _span(steps, min(time_width, budget), generator)
        out[start:start + width, :] = 0
        budget -= width
    return out


def _span(size: int, max_width: int, generator: torch.Generator) -> tuple[int, int]:
    """A random (start, width) with width uniform in [0, max_width] and the span inside [0, size)."""
    width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
    start = int(torch.randint(0, size - width + 1, (1,), generator=generator))
    return start, width
