"""WAV reading and writing (seq2seq.data.audio.wav): every supported sample format round-trips, every bad input is a
one-line UserError naming the file, and a too-long file is refused from its header in bounded memory.

Test files are built independently of the reader: integer PCM with the standard `wave` module, float and
unusual layouts as RIFF bytes assembled here.
"""

import re
import struct
import tracemalloc
import wave

import numpy as np
import pytest

from seq2seq.data.audio.wav import read_audio_bytes, read_wav, trim_silence, wav_bytes, write_wav
from seq2seq.errors import InputWarning, UserError

RATE = 16000


def fmt_chunk(tag, channels, rate, width, extensible_tag=None):
    """A fmt chunk body: 16 bytes, or 40 for WAVE_FORMAT_EXTENSIBLE with `extensible_tag` as the sub-format."""
    body = struct.pack("<HHIIHH", 0xFFFE if extensible_tag else tag, channels, rate, rate * channels * width,
                       channels * width, 8 * width)
    if extensible_tag:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        body += struct.pack("<HHI", 22, 8 * width, 0) + struct.pack("<H", extensible_tag) + guid_tail
    return body


def riff(fmt_body, data, before_data=b"", data_size=None):
    """A RIFF/WAVE file: the fmt chunk, `before_data` (other chunks), the data chunk (its size may lie)."""
    size = len(data) if data_size is None else data_size
    chunks = b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body + before_data + b"data" + \
        struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def write_with_wave(path, frames, width, channels=1, rate=RATE):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)


def int_samples(width, count=200, seed=0):
    """(count,) integers covering the signed range of `width` bytes, both extremes included."""
    low, high = -2 ** (8 * width - 1), 2 ** (8 * width - 1) - 1
    values = np.random.default_rng(seed).integers(low, high, size=count, endpoint=True)
    values[:3] = [low, 0, high]
    return values


def int_bytes(values, width):
    """Little-endian PCM bytes; 8-bit is unsigned (offset 128), as WAV stores it."""
    if width == 1:
        return (values + 128).astype(np.uint8).tobytes()
    if width == 3:
        return b"".join(int(v).to_bytes(3, "little", signed=True) for v in values)
    return values.astype(f"<i{width}").tobytes()


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_integer_pcm_reads_as_floats_in_unit_range(tmp_path, width):
    values = int_samples(width)
    path = tmp_path / f"pcm{8 * width}.wav"
    write_with_wave(path, int_bytes(values, width), width, rate=11025)
    audio = read_wav(path)
    assert audio.samples.dtype == np.float32 and audio.samples.shape == (len(values),)
    assert audio.sample_rate == 11025 and audio.origin == str(path)
    np.testing.assert_allclose(audio.samples, values / 2 ** (8 * width - 1), atol=1e-7)
    assert audio.samples.min() == -1.0 and audio.samples.max() <= 1.0


@pytest.mark.parametrize("width, dtype", [(4, "<f4"), (8, "<f8")])
def test_ieee_float_wav_reads(width, dtype):
    values = np.linspace(-1, 1, 101)
    audio = read_audio_bytes(riff(fmt_chunk(3, 1, 22050, width), values.astype(dtype).tobytes()), "float.wav")
    assert audio.sample_rate == 22050 and audio.samples.dtype == np.float32
    np.testing.assert_allclose(audio.samples, values, atol=1e-7)


@pytest.mark.parametrize("tag, width", [(1, 3), (3, 4)])
def test_wave_format_extensible_reads_its_sub_format(tag, width):
    values = int_samples(3) / 2 ** 23 if tag == 1 else np.linspace(-0.5, 0.5, 11)
    data = int_bytes(int_samples(3), 3) if tag == 1 else values.astype("<f4").tobytes()
    audio = read_audio_bytes(riff(fmt_chunk(tag, 1, 48000, width, extensible_tag=tag), data), "ext.wav")
    np.testing.assert_allclose(audio.samples, values, atol=1e-7)


def test_float_samples_outside_the_unit_range_are_clipped_with_a_warning():
    data = np.array([0.5, 1.5, -2.0], dtype="<f4").tobytes()
    with pytest.warns(InputWarning, match=r"loud\.wav: 2 float samples outside \[-1, 1\] clipped"):
        audio = read_audio_bytes(riff(fmt_chunk(3, 1, RATE, 4), data), "loud.wav")
    assert audio.samples.tolist() == [0.5, 1.0, -1.0]


def test_non_finite_float_samples_are_refused():
    data = np.array([0.5, np.nan, np.inf], dtype="<f4").tobytes()
    with pytest.raises(UserError, match=r"^nan\.wav: 2 samples are not finite"):
        read_audio_bytes(riff(fmt_chunk(3, 1, RATE, 4), data), "nan.wav")


def test_stereo_is_mixed_down_to_mono_with_a_warning(tmp_path):
    left, right = int_samples(2, seed=1), int_samples(2, seed=2)
    path = tmp_path / "stereo.wav"
    write_with_wave(path, np.stack([left, right], axis=1).astype("<i2").tobytes(), 2, channels=2)
    with pytest.warns(InputWarning, match=f"^{path}: 2 channels mixed down to mono$"):
        audio = read_wav(path)
    np.testing.assert_allclose(audio.samples, (left + right) / 2 / 32768, atol=1e-7)


def test_write_wav_round_trips_and_is_standard_16_bit_pcm(tmp_path):
    samples = np.random.default_rng(0).integers(-32768, 32767, size=500, endpoint=True) / 32768
    path = tmp_path / "sub" / "out.wav"
    write_wav(path, samples, 8000)
    audio = read_wav(path)
    assert audio.sample_rate == 8000 and audio.seconds == 500 / 8000
    np.testing.assert_array_equal(audio.samples, samples.astype(np.float32))
    with wave.open(str(path), "rb") as w:      # the standard library agrees on the header
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 500)
    assert [p.name for p in path.parent.iterdir()] == ["out.wav"]    # no temporary left beside it


def test_write_wav_clips_loud_samples_and_refuses_bad_input(tmp_path):
    path = tmp_path / "loud.wav"
    write_wav(path, np.array([2.0, -3.0, 0.25]), 8000)
    assert read_wav(path).samples.tolist() == [32767 / 32768, -1.0, 0.25]
    with pytest.raises(ValueError, match="shape"):
        wav_bytes(np.zeros((4, 2)), 8000)
    with pytest.raises(ValueError, match="finite"):
        wav_bytes(np.array([0.0, np.nan]), 8000)


def test_bytes_and_file_readers_agree(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, np.linspace(-1, 1, 64), RATE)
    from_file, from_bytes = read_wav(path), read_audio_bytes(path.read_bytes(), "upload")
    np.testing.assert_array_equal(from_file.samples, from_bytes.samples)
    assert from_bytes.origin == "upload" and from_bytes.sample_rate == RATE


def test_other_chunks_before_the_data_are_skipped_with_their_padding():
    odd_chunk = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\0"       # odd size: one pad byte follows
    data = np.array([1000, -1000], dtype="<i2").tobytes()
    audio = read_audio_bytes(riff(fmt_chunk(1, 1, RATE, 2), data, before_data=odd_chunk), "list.wav")
    np.testing.assert_allclose(audio.samples, [1000 / 32768, -1000 / 32768])


def good_wav(seconds=0.01):
    return riff(fmt_chunk(1, 1, RATE, 2), np.zeros(round(seconds * RATE), dtype="<i2").tobytes())


BAD_INPUTS = {
    "truncated header": (good_wav()[:30], r"not a WAV file \("),
    "random bytes": (np.random.default_rng(0).bytes(1000), r"not a WAV file \(no RIFF/WAVE header\)"),
    "empty file": (b"", r"not a WAV file \("),
    "no data chunk": (good_wav()[:36], r"not a WAV file \(no data chunk\)"),
    "mu-law": (riff(fmt_chunk(7, 1, 8000, 1), b"\x7f" * 100),
               r"compressed WAV \(format 7, µ-law\) is not supported: convert to 16-bit PCM, e\.g\. ffmpeg "
               r"-i in\.wav -acodec pcm_s16le out\.wav"),
    "ADPCM": (riff(fmt_chunk(0x11, 1, 8000, 1), b"\0" * 100), r"compressed WAV \(format 17, IMA ADPCM\)"),
    "12-byte samples": (riff(fmt_chunk(1, 1, 8000, 12), b"\0" * 120), r"96-bit PCM WAV is not supported"),
    "no samples": (riff(fmt_chunk(1, 1, 8000, 2), b""), r"no samples$"),
    "big-endian": (b"RIFX" + good_wav()[4:], r"big-endian WAV \(RIFX\) is not supported"),
    "zero channels": (riff(fmt_chunk(1, 0, 8000, 2), b"\0" * 10), r"not a WAV file \(invalid fmt chunk"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_a_one_line_user_error_naming_the_file(tmp_path, case):
    data, expected = BAD_INPUTS[case]
    path = tmp_path / "bad.wav"
    path.write_bytes(data)
    for read, origin in ((lambda: read_wav(path), str(path)), (lambda: read_audio_bytes(data, "up.wav"), "up.wav")):
        with pytest.raises(UserError) as caught:
            read()
        message = str(caught.value)
        assert "\n" not in message and message.startswith(f"{origin}: ")
        assert re.search(expected, message), message


def test_missing_file_and_folder_are_user_errors(tmp_path):
    with pytest.raises(UserError, match=f"^audio file not found: {tmp_path / 'nope.wav'}$"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(UserError, match=f"^cannot read {tmp_path}: "):
        read_wav(tmp_path)


def test_too_long_file_is_refused_from_its_header_in_bounded_memory(tmp_path):
    path = tmp_path / "long.wav"
    data_bytes = 612 * RATE * 2                                    # 612 s of 16-bit mono: 19.6 MB
    path.write_bytes(riff(fmt_chunk(1, 1, RATE, 2), b"", data_size=data_bytes))
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size + data_bytes)               # sparse: the samples take no disk
    tracemalloc.start()
    try:
        with pytest.raises(UserError, match=rf"^{path}: 612\.0 s of audio, longer than the limit of 60 s \("):
            read_wav(path, max_seconds=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"refusing the file took {peak:,} bytes: the samples were read"


def test_the_length_limit_counts_the_samples_present(tmp_path):
    exactly = tmp_path / "one_second.wav"
    write_wav(exactly, np.zeros(RATE), RATE)
    assert read_wav(exactly, max_seconds=1).seconds == 1.0
    # a header claiming 10 minutes over 0.01 s of samples (a recording cut short) reads what is there
    cut_short = riff(fmt_chunk(1, 1, RATE, 2), np.ones(160, dtype="<i2").tobytes(), data_size=600 * RATE * 2)
    with pytest.warns(InputWarning, match=r"^cut\.wav: the data chunk is cut short \(320 of 19,200,000 bytes"):
        audio = read_audio_bytes(cut_short, "cut.wav", max_seconds=60)
    assert len(audio.samples) == 160


def test_a_streamed_data_size_reads_to_the_end_without_a_warning(recwarn):
    data = np.arange(10, dtype="<i2").tobytes()
    audio = read_audio_bytes(riff(fmt_chunk(1, 1, RATE, 2), data, data_size=0xFFFFFFFF), "pipe.wav")
    assert len(audio.samples) == 10 and not recwarn.list


def test_trim_silence_drops_quiet_ends_and_keeps_the_sound():
    rate, frame = 8000, 80                                         # 10 ms frames
    tone = 0.5 * np.sin(np.arange(800) * 0.3)                       # 100 ms
    quiet = np.full(400, 0.001)                                     # -54 dB under the tone: trimmed
    trimmed = trim_silence(np.concatenate([quiet, tone, quiet]), rate)
    assert 800 < len(trimmed) <= 800 + 2 * 2 * frame                # the tone, and at most a margin each side
    start = int(np.flatnonzero(trimmed != quiet[0])[0])
    np.testing.assert_array_equal(trimmed[start:start + 800], tone)  # all of it
    silence = np.zeros(300)
    assert len(trim_silence(silence, rate)) == 300                  # nothing loud: kept whole
