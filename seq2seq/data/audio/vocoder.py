"""A Griffin-Lim vocoder for the log-mel frames of `features.log_mel`: mel → linear magnitude → phase → samples.

`mel_to_linear` undoes `log_mel` step by step: exp (values below `log_floor` are raised to it, as `log_mel` does),
the mel filterbank by non-negative least squares (multiplicative updates, see `mel_to_power`), the pre-emphasis
tilt, the squared-window-sum scaling, and the square. The result is |STFT| in the units `torch.stft` gives for the
same window, hop and n_fft, which is what `griffin_lim` (and `torch.istft`) expect.

`griffin_lim` is the fast Griffin-Lim of Perraudin, Balazs and Søndergaard (2013, "A fast Griffin-Lim
algorithm"): the classic alternation of the two projections (set the magnitude; make the STFT consistent by
istft→stft) with a momentum step on the consistent estimate.

Length rule: `frames` frames become max(1, (frames - 1)·hop) samples (0 frames: none). That is the shortest
recording with that many frames (`features.feature_frames(n) == frames`), so a round trip keeps the frame count.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...errors import UserError
from .features import FeatureSettings, Framing, check_nyquist, framing, mel_filterbank, preemphasis_weight

NNLS_ITERATIONS = 50    # multiplicative updates in `mel_to_power`: log-mel refits to ~1e-4 nats by 30
LOG_MEL_LIMIT = 80.0    # e^80 power is ~10^17 times a full-scale sine's amplitude: no real recording, and the
                        # magnitude would near float32's range


class VocoderInputError(UserError, ValueError):
    """Input the vocoder cannot turn into audio (non-finite values, wrong shape, framing it cannot invert)."""


# --- mel → linear magnitude ----------------------------------------------------------------------------------


def mel_to_linear(log_mel: torch.Tensor, sample_rate: int, settings: FeatureSettings) -> torch.Tensor:
    """The STFT magnitude (n_fft // 2 + 1, frames) whose `log_mel` is close to `log_mel` (frames, n_mels), float32,
    in `torch.stft`'s units (a full-scale sine peaks near window sum / 2)."""
    _check_log_mel(log_mel, settings)
    check_nyquist(sample_rate, settings)
    f = framing(sample_rate, settings)
    n_freqs = f.n_fft // 2 + 1
    f_max = settings.f_max if settings.f_max is not None else sample_rate / 2
    bank = mel_filterbank(n_freqs, sample_rate, settings.n_mels, settings.f_min, f_max).double()  # (n_freqs, n_mels)
    mel = log_mel.double().clamp(min=math.log(settings.log_floor)).exp()        # (frames, n_mels)
    power = mel_to_power(mel, bank)                                             # (frames, n_freqs)
    if settings.preemphasis:
        freqs = torch.linspace(0.0, sample_rate / 2, n_freqs, dtype=torch.float64)   # (n_freqs,)
        power = power / preemphasis_weight(freqs, settings.preemphasis)
    window_sum = torch.hann_window(f.win, periodic=True, dtype=torch.float64).sum()
    magnitude = (power.sqrt().T * window_sum).float()                           # (n_freqs, frames)
    if not torch.isfinite(magnitude).all():
        raise VocoderInputError("vocoder: log-mel values too large to invert (the magnitude overflows float32)")
    return magnitude


def mel_to_power(mel: torch.Tensor, bank: torch.Tensor, iterations: int = NNLS_ITERATIONS) -> torch.Tensor:
    """Non-negative P (frames, n_freqs) with P @ bank ≈ mel (frames, n_mels), mel > 0, minimising the relative
    squared error Σ ((P @ bank - mel) / mel)² by weighted multiplicative updates (Lee & Seung's NNLS update with
    weights 1 / mel²):  P ← P · ((1 / mel) @ bankᵀ) / (((P @ bank) / mel²) @ bankᵀ), started from
    mel @ bankᵀ / (filter weight per bin)², a smooth spread of each band's energy over its bins.

    Why not the pseudo-inverse: the bank has more bins than filters, so pinv gives the minimum-norm solution,
    which swings negative between filter centres; clamped at 0 it no longer fits (a speech clip's log-mel comes
    back 0.19 off on average, up to 4.7) and leaves a comb of holes. Why relative error: log-mel compares bands
    by ratio, and plain least squares spends its effort on the loud bands, leaving quiet ones next to loud ones
    up to 9 nats off. The updates keep P ≥ 0, never increase the weighted error, leave bins that no filter
    covers at 0, and fit log-mel to within 1e-3 nats in a few dozen updates (an exact non-negative solution
    exists: more bins than filters). Every frame is independent and the objective does not change when a frame
    is scaled, so each is divided by its loudest band first (the weights stay within float64's range); each
    update is two small matrix products."""
    scale = mel.amax(1, keepdim=True)                                           # (frames, 1)
    inverse = scale / mel                                                       # (frames, n_mels), >= 1
    numerator = inverse @ bank.T                                                # (frames, n_freqs)
    coverage = bank.sum(1).square()                                             # (n_freqs,)
    power = _divide((mel / scale) @ bank.T, coverage)                           # (frames, n_freqs)
    for _ in range(iterations):
        power = power * _divide(numerator, ((power @ bank) * inverse.square()) @ bank.T)
    return power * scale


def _divide(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """numerator / denominator, 0 where the denominator is 0 (bins that no filter covers)."""
    positive = denominator > 0
    return torch.where(positive, numerator / torch.where(positive, denominator, 1.0), 0.0)


def _check_log_mel(log_mel: torch.Tensor, settings: FeatureSettings) -> None:
    if log_mel.dim() != 2 or log_mel.shape[1] != settings.n_mels:
        raise VocoderInputError(f"vocoder: expected log-mel frames of shape (frames, {settings.n_mels}), not "
                                f"{tuple(log_mel.shape)}")
    if not torch.isfinite(log_mel).all():
        bad = int((~torch.isfinite(log_mel)).sum())
        raise VocoderInputError(f"vocoder: the log-mel frames hold {bad} NaN or infinite values")
    if log_mel.numel() and float(log_mel.max()) > LOG_MEL_LIMIT:
        raise VocoderInputError(f"vocoder: a log-mel value of {float(log_mel.max()):g} is above {LOG_MEL_LIMIT:g}: "
                                f"not features of audio (a full-scale sine gives about -1.4)")


# --- Griffin-Lim ---------------------------------------------------------------------------------------------


def griffin_lim(magnitude: torch.Tensor, f: Framing, iterations: int = 60, momentum: float = 0.99,
                power: float = 1.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Samples (max(1, (frames - 1)·hop),) whose STFT magnitude approaches `magnitude` (n_fft // 2 + 1, frames).

    `power` sharpens the target first, as Tacotron does with predicted spectrograms (Wang et al. 2017 raise them
    to 1.2; 1.5 is the common open-source setting): peaks gain on the valleys between them, which hides some of
    the smearing of a predicted or mel-smoothed spectrum. It is applied as S^power · ||S|| / ||S^power||, so the
    total energy, and thus the loudness, does not change. It also stretches the dynamic range in dB by `power`:
    quiet bins come out much quieter (re-featurised, a speech clip's log-mel moves about 2.7 nats on average at
    1.5). Use power 1, the exact target, to measure the vocoder against reference features.

    `momentum` is Perraudin et al.'s α (0: classic Griffin-Lim; they recommend 0.99). The initial phase is
    uniform from `generator`, so a seeded generator gives the same samples."""
    _check_framing(magnitude, f)
    frames = magnitude.shape[1]
    length = max(1, (frames - 1) * f.hop)
    target = _sharpen(magnitude.float(), power)                                 # (n_freqs, frames)
    phase = torch.rand(target.shape, generator=generator) * (2 * math.pi)       # (n_freqs, frames)
    estimate = torch.polar(target, phase)                                       # (n_freqs, frames) complex
    window = torch.hann_window(f.win, periodic=True)
    previous = _consistent(estimate, f, window, length)
    estimate = previous
    for _ in range(iterations):
        consistent = _consistent(target * _unit(estimate), f, window, length)  # P_C1(P_C2(t))
        estimate = consistent + momentum * (consistent - previous)
        previous = consistent
    return _istft(target * _unit(estimate), f, window, length)


def _sharpen(magnitude: torch.Tensor, power: float) -> torch.Tensor:
    """S^power rescaled to S's Frobenius norm, computed on S / max(S) so that neither overflows float32.
    (n_freqs, frames)"""
    peak = magnitude.max()
    if power == 1 or peak == 0:
        return magnitude
    relative = magnitude / peak                                                 # (n_freqs, frames) in [0, 1]
    sharpened = relative.pow(power)                                             # (n_freqs, frames)
    return sharpened * (peak * relative.norm() / sharpened.norm())


def _unit(spec: torch.Tensor) -> torch.Tensor:
    """spec / |spec|, with 1 where spec is 0. (n_freqs, frames) complex"""
    size = spec.abs()
    return torch.where(size > 0, spec / torch.where(size > 0, size, 1.0), 1.0)


def _consistent(spec: torch.Tensor, f: Framing, window: torch.Tensor, length: int) -> torch.Tensor:
    """The STFT of the samples nearest to `spec` in the least-squares sense. (n_freqs, frames) complex"""
    return torch.stft(_istft(spec, f, window, length), f.n_fft, hop_length=f.hop, win_length=f.win,
                      window=window, center=True, pad_mode="constant", return_complex=True)


def _istft(spec: torch.Tensor, f: Framing, window: torch.Tensor, length: int) -> torch.Tensor:
    """(n_freqs, frames) complex -> (length,)"""
    return torch.istft(spec, f.n_fft, hop_length=f.hop, win_length=f.win, window=window, center=True,
                       length=length)


def _check_framing(magnitude: torch.Tensor, f: Framing) -> None:
    if magnitude.dim() != 2 or magnitude.shape[0] != f.n_fft // 2 + 1 or magnitude.shape[1] < 1:
        raise VocoderInputError(f"griffin_lim: expected a magnitude of shape ({f.n_fft // 2 + 1}, frames >= 1), "
                                f"not {tuple(magnitude.shape)}")
    if not (torch.isfinite(magnitude).all() and (magnitude >= 0).all()):
        raise VocoderInputError("griffin_lim: the magnitude must be finite and non-negative")
    if f.hop >= f.win:
        raise VocoderInputError(f"griffin_lim: a hop of {f.hop} samples leaves gaps between windows of {f.win}; "
                                f"the inverse STFT needs hop < window")


# --- the whole vocoder and its measure -----------------------------------------------------------------------


def mel_to_audio(log_mel: torch.Tensor, sample_rate: int, settings: FeatureSettings, iterations: int = 60,
                 momentum: float = 0.99, power: float = 1.5, seed: int = 0) -> np.ndarray:
    """Samples (max(1, (frames - 1)·hop),) float32 in [-1, 1] for log-mel frames (frames, n_mels); none for no
    frames. Peak-normalised only where the peak exceeds 1. Non-finite input, or values above `LOG_MEL_LIMIT`,
    raise `VocoderInputError` (a `ValueError` and a `UserError`). The same seed gives the same samples. The
    default power 1.5 sharpens (see `griffin_lim`); pass power=1.0 for the closest round trip."""
    _check_log_mel(log_mel, settings)
    if log_mel.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    magnitude = mel_to_linear(log_mel, sample_rate, settings)                   # (n_freqs, frames)
    generator = torch.Generator().manual_seed(seed)
    samples = griffin_lim(magnitude, framing(sample_rate, settings), iterations, momentum, power, generator)
    peak = float(samples.abs().max())
    if not math.isfinite(peak):
        raise VocoderInputError("vocoder: Griffin-Lim produced non-finite samples")
    if peak > 1:
        samples = samples / peak
    return samples.numpy().astype(np.float32)


def spectral_convergence(reference_magnitude: torch.Tensor, estimate_magnitude: torch.Tensor) -> float:
    """||S - Ŝ||_F / ||S||_F for magnitudes of the same shape: 0 is a perfect match, 1 as far off as silence.
    An all-zero reference gives 0 against all zeros and infinity against anything else."""
    if reference_magnitude.shape != estimate_magnitude.shape:
        raise ValueError(f"spectral_convergence: shapes {tuple(reference_magnitude.shape)} and "
                         f"{tuple(estimate_magnitude.shape)} differ")
    reference = reference_magnitude.double()
    error = float((reference - estimate_magnitude.double()).norm())
    scale = float(reference.norm())
    if scale == 0:
        return 0.0 if error == 0 else math.inf
    return error / scale
