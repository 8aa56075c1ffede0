"""Speech features: the mel filterbank against the formula, sines landing in their band at 8 and 16 kHz alike,
frame counts, the normalizer's statistics and file, SpecAugment's masks."""

import json
import math

import pytest
import torch

from seq2seq.data.audio.features import (FeatureSettings, Normalizer, check_nyquist, feature_frames, framing, log_mel,
                                   mel_filterbank, spec_augment)
from seq2seq.errors import UserError


def mel(f):
    return 2595 * math.log10(1 + f / 700)


def hz(m):
    return 700 * (10 ** (m / 2595) - 1)


def reference_points(n_mels, f_min, f_max):
    """n_mels + 2 frequencies evenly spaced in HTK mel, in plain Python floats."""
    lo, hi = mel(f_min), mel(f_max)
    return [hz(lo + (hi - lo) * i / (n_mels + 1)) for i in range(n_mels + 2)]


def reference_bank(n_freqs, sample_rate, n_mels, f_min, f_max):
    """bank[k][m]: filter m's triangle evaluated at bin k's frequency k·rate / (2·(n_freqs - 1))."""
    points = reference_points(n_mels, f_min, f_max)
    bank = []
    for k in range(n_freqs):
        f = k * sample_rate / (2 * (n_freqs - 1))
        row = []
        for lo, centre, hi in zip(points, points[1:], points[2:]):
            if lo < f <= centre:
                row.append((f - lo) / (centre - lo))
            elif centre < f < hi:
                row.append((hi - f) / (hi - centre))
            else:
                row.append(0.0)
        bank.append(row)
    return bank


def sine(freq, sample_rate, seconds=0.5, amplitude=0.5):
    t = torch.arange(int(sample_rate * seconds), dtype=torch.float64) / sample_rate
    return (amplitude * torch.sin(2 * math.pi * freq * t)).float()


# --- filterbank ----------------------------------------------------------------------------------------------

CASE = dict(n_freqs=129, sample_rate=8000, n_mels=10, f_min=100.0, f_max=3500.0)   # n_fft 256: bins 31.25 Hz apart


def test_filterbank_matches_the_formula():
    bank = mel_filterbank(**CASE)
    assert bank.shape == (129, 10)
    assert torch.allclose(bank, torch.tensor(reference_bank(**CASE)), atol=1e-6)


def test_filters_peak_next_to_their_centre_and_vanish_outside_the_range():
    bank = mel_filterbank(**CASE)                                # (n_freqs, n_mels)
    step = 8000 / 256
    freqs = [k * step for k in range(129)]
    outside = [k for k, f in enumerate(freqs) if f <= 100.0 or f >= 3500.0]
    assert bank[outside].abs().max() == 0
    centres = reference_points(10, 100.0, 3500.0)[1:-1]
    for m, centre in enumerate(centres):
        assert int(bank[:, m].argmax()) in (math.floor(centre / step), math.ceil(centre / step))


def test_each_filter_rises_then_falls_with_peak_one():
    bank = mel_filterbank(n_freqs=8001, sample_rate=16000, n_mels=40, f_min=0.0, f_max=8000.0)  # bins 1 Hz apart
    for m in range(40):
        column = bank[:, m]
        support = column.nonzero().flatten()
        values = column[support[0]:support[-1] + 1]
        peak = int(values.argmax())
        assert (values > 0).all(), "a triangle has no holes"
        assert (values[1:peak + 1] >= values[:peak]).all() and (values[peak + 1:] <= values[peak:-1]).all()
        assert 0.99 < float(values.max()) <= 1.0


# --- log-mel -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample_rate,f_max", [(8000, 4000.0), (16000, 4000.0), (16000, None)])
def test_a_sine_lights_up_its_band(sample_rate, f_max):
    settings = FeatureSettings(f_max=f_max)
    centres = reference_points(40, 0.0, f_max or sample_rate / 2)[1:-1]
    for band in (8, 16, 24, 32, 36):
        freq = centres[band] + 0.25 * (centres[band + 1] - centres[band])   # nearer this band's centre than any
        features = log_mel(sine(freq, sample_rate), sample_rate, settings)  # (frames, n_mels)
        assert int(features.mean(0).argmax()) == band, freq


@pytest.mark.parametrize("freq", [300.0, 1000.0, 2500.0, 3300.0])
def test_8_and_16_khz_recordings_of_a_sine_give_close_features(freq):
    """Window, hop and FFT padding are the same durations at both rates (n_fft 256 and 512: bins 31.25 Hz apart)
    and the pre-emphasis tilt is set in Hz, so frames that see only the sine agree closely. Measured max |diff|
    over those frames: 0 at 300 Hz, 7e-6 at 1 kHz, 2e-5 at 2.5 kHz, 0.0031 at 3.3 kHz, where the 8 kHz file's
    mirror image at 8000 - f Hz leaks into a quiet band (log-mel -12.2) through the window's sidelobes; bound 0.01.
    The first and last two frames reach into the zero padding: the sine's abrupt start is a click whose broadband
    splatter folds at the 8 kHz file's Nyquist, which moves the mean over all frames of the top bands by up to
    0.0625 (measured 0.005, 0.048, 0.061, 0.0625); bound 0.1. A pre-emphasis filter run on the samples instead of
    the Hz-set tilt would put the means 1.34 apart at 1 kHz."""
    settings = FeatureSettings(f_max=4000.0, log_floor=1e-6)    # bands > 50 dB under the sine: window leakage,
    low = log_mel(sine(freq, 8000), 8000, settings)             # (frames, n_mels)   which differs between rates
    high = log_mel(sine(freq, 16000), 16000, settings)          # (frames, n_mels)
    assert low.shape == high.shape == (51, 40)
    assert (low[2:-2] - high[2:-2]).abs().max() < 0.01
    assert (low.mean(0) - high.mean(0)).abs().max() < 0.1


@pytest.mark.parametrize("sample_rate", [8000, 16000, 22050])
def test_frame_count_formula(sample_rate):
    settings = FeatureSettings()
    f = framing(sample_rate, settings)
    assert f.n_fft >= f.win > f.n_fft // 2
    for n in (1, 2, f.hop - 1, f.hop, f.hop + 1, f.win - 1, f.win, f.win + 1, f.n_fft + 3, 4321):
        frames = log_mel(torch.randn(n), sample_rate, settings)
        assert frames.shape == (feature_frames(n, sample_rate, settings), 40) == (1 + n // f.hop, 40), n
        assert torch.isfinite(frames).all()
    assert log_mel(torch.zeros(0), sample_rate, settings).shape == (0, 40) and feature_frames(0, sample_rate,
                                                                                               settings) == 0


def test_silence_sits_at_the_log_floor():
    settings = FeatureSettings(log_floor=1e-6)
    assert torch.allclose(log_mel(torch.zeros(800), 8000, settings), torch.tensor(math.log(1e-6)))


def test_f_max_above_the_nyquist_of_a_file_is_a_one_line_user_error():
    settings = FeatureSettings(f_max=7600.0)
    with pytest.raises(UserError) as caught:
        log_mel(torch.randn(8000), 8000, settings)
    message = str(caught.value)
    assert "\n" not in message and "8000 Hz" in message and "4000 Hz" in message and "7600 Hz" in message
    check_nyquist(16000, settings)
    assert log_mel(torch.randn(16000), 16000, settings).shape == (101, 40)


@pytest.mark.parametrize("bad", [dict(n_mels=0), dict(hop_ms=0.0), dict(f_min=500.0, f_max=400.0),
                                 dict(preemphasis=1.0), dict(log_floor=0.0)])
def test_bad_settings_are_user_errors(bad):
    with pytest.raises(UserError, match="^features: "):
        FeatureSettings(**bad)


# --- normalizer ----------------------------------------------------------------------------------------------


def utterances(seed=0, n_features=5):
    g = torch.Generator().manual_seed(seed)
    scale = torch.tensor([1.0, 0.1, 3.0, 0.5, 2.0][:n_features])
    offset = torch.tensor([-10.0, 1e6, 0.0, 5.0, -3.0][:n_features])   # 1e6 ± 0.1: a naive Σx² - (Σx)² loses it
    lengths = torch.randint(1, 60, (20,), generator=g).tolist()
    return [torch.randn(n, n_features, generator=g) * scale + offset for n in lengths]


def test_normalizer_statistics_equal_torch_over_all_frames():
    train = utterances()
    norm = Normalizer.fit(train)
    every = torch.cat(train).double()                            # (all frames, n_features)
    assert torch.allclose(norm.mean, every.mean(0), rtol=1e-12, atol=0)
    assert torch.allclose(norm.std, every.std(0, correction=0), rtol=1e-9, atol=0)


def test_normalised_training_frames_have_mean_0_and_std_1():
    train = [u[:, [0, 2, 3, 4]] for u in utterances()]
    out = torch.cat([Normalizer.fit(train)(u) for u in train])  # (all frames, n_features)
    assert out.dtype == torch.float32
    assert out.mean(0).abs().max() < 1e-5
    assert (out.std(0, correction=0) - 1).abs().max() < 1e-5


def test_save_and_load_give_identical_outputs(tmp_path):
    norm = Normalizer.fit(utterances())
    path = tmp_path / "run" / "normalizer.json"
    norm.save(path)
    data = json.loads(path.read_text())
    assert set(data) == {"mean", "std"} and all(isinstance(v, float) for v in data["mean"] + data["std"])
    frames = utterances(seed=1)[0]
    assert torch.equal(Normalizer.load(path)(frames), norm(frames))
    assert torch.equal(Normalizer.from_dict(norm.to_dict()).std, norm.std)


def test_a_constant_feature_gives_finite_output():
    train = [torch.cat([torch.randn(30, 2), torch.full((30, 1), math.log(1e-6))], dim=1) for _ in range(3)]
    norm = Normalizer.fit(train)
    assert float(norm.std[2]) == pytest.approx(1e-2)
    out = norm(torch.cat([torch.randn(4, 2), torch.tensor([[math.log(1e-6)], [0.0], [-20.0], [5.0]])], dim=1))
    assert torch.isfinite(out).all() and float(out[0, 2]) == 0.0


@pytest.mark.parametrize("data", [{"mean": [0.0], "std": [0.0]}, {"mean": [0.0, 1.0], "std": [1.0]},
                                  {"mean": [], "std": []}, {"mean": ["0"], "std": [1.0]}, [1.0]])
def test_a_malformed_normalizer_is_a_user_error(data):
    with pytest.raises(UserError, match="normalizer"):
        Normalizer.from_dict(data)


def test_normalizer_file_and_fit_errors(tmp_path):
    bad = tmp_path / "normalizer.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="normalizer.json"):
        Normalizer.load(bad)
    with pytest.raises(UserError, match="no frames"):
        Normalizer.fit([torch.zeros(0, 3)])
    with pytest.raises(UserError, match="3 and 4 features"):
        Normalizer.fit([torch.zeros(2, 3), torch.zeros(2, 4)])
    with pytest.raises(UserError, match="fitted on 3 features"):
        Normalizer.fit([torch.randn(5, 3)])(torch.zeros(2, 4))


# --- SpecAugment ---------------------------------------------------------------------------------------------


def augment(frames, seed, **options):
    return spec_augment(frames, torch.Generator().manual_seed(seed), **options)


def masked(frames, out):
    """The masked time steps and features: whole rows and columns of zeros (`frames` holds no zeros)."""
    return (out == 0).all(1), (out == 0).all(0)


def runs(flags):
    """How many contiguous runs of True."""
    return sum(1 for i, f in enumerate(flags.tolist()) if f and (i == 0 or not flags[i - 1]))


def test_spec_augment_is_deterministic_per_seed():
    frames = torch.rand(100, 40) + 1
    assert torch.equal(augment(frames, 0), augment(frames, 0))
    assert not torch.equal(augment(frames, 0), augment(frames, 1))


def test_masks_are_whole_bands_and_spans_of_zeros_and_the_rest_is_unchanged():
    seen_time = seen_freq = 0
    for seed in range(200):
        frames = torch.rand(100, 40) + 1
        before = frames.clone()
        out = augment(frames, seed)
        assert torch.equal(frames, before), "the input is not modified"
        rows, cols = masked(frames, out)
        mask = rows[:, None] | cols[None, :]                     # (T, F)
        assert torch.equal(out == 0, mask)
        assert torch.equal(out[~mask], frames[~mask])
        assert runs(rows) <= 2 and runs(cols) <= 2
        assert int(cols.sum()) <= 2 * 8 and int(rows.sum()) <= 20
        seen_time, seen_freq = seen_time + int(rows.any()), seen_freq + int(cols.any())
    assert seen_time > 150 and seen_freq > 150                   # P(a width of 0 twice) = 1/441 and 1/81


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 7, 12, 33])
def test_time_masks_stay_within_the_ratio_and_short_utterances_work(steps):
    for seed in range(50):
        frames = torch.rand(steps, 6) + 1
        rows, _ = masked(frames, augment(frames, seed, freq_masks=0, time_masks=3, time_width=20))
        assert int(rows.sum()) <= math.floor(0.2 * steps)
        out = augment(frames, seed, freq_width=10, time_width=20)   # bands wider than the 6 features are capped
        assert out.shape == (steps, 6) and ((out == 0) | (out == frames)).all()


def test_bad_spec_augment_options_are_user_errors():
    with pytest.raises(UserError, match="spec_augment"):
        augment(torch.rand(10, 4), 0, max_time_ratio=1.5)
