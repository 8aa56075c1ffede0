"""Speed perturbation (Ko et al. 2015): a clip played faster or slower by resampling, pitch moving with the tempo,
as `sox speed` does. A factor f > 1 is faster (n / f samples at the same rate), f < 1 slower. The resampling is
scipy's polyphase filter (band-limited: no aliasing from the speed-up), with f as a ratio of small integers."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly


def change_speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """(n,) float32 → (round(n / factor),) float32: the same sound `factor` times as fast."""
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, not {factor}")
    if factor == 1:
        return samples
    ratio = Fraction(factor).limit_denominator(100)          # faster: fewer samples, so up / down = 1 / factor
    out = resample_poly(samples.astype(np.float64), ratio.denominator, ratio.numerator)
    return np.clip(out, -1.0, 1.0).astype(np.float32)
