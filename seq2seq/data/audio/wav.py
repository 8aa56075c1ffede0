"""WAV files in and out, with the standard library and numpy only (no torchaudio, no libsndfile).

`read_wav` / `read_audio_bytes` read uncompressed WAV: PCM 8-bit unsigned, 16, 24 and 32-bit signed, and IEEE
float 32/64-bit (format 3, which Python's `wave` module refuses), also inside WAVE_FORMAT_EXTENSIBLE, at any sample
rate. Samples come back as float32 in [-1, 1]; several channels are mixed down to mono with a warning. The RIFF
chunks are parsed here: the header (and so the length) is checked before any sample is read, so a too-long file is
refused in bounded memory. `write_wav` writes 16-bit PCM mono atomically.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional, Union

import numpy as np

from ...errors import UserError, warn
from ...files import write_atomic

PCM, IEEE_FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
STREAMED_SIZE = 0xFFFFFFFF          # a data chunk size left unset by a writer that could not seek back
MAX_FMT_BYTES = 1024                # a fmt chunk is 16, 18 or 40 bytes; more is a corrupt header
CONVERT_HINT = "convert to 16-bit PCM, e.g. ffmpeg -i in.wav -acodec pcm_s16le out.wav"
COMPRESSED_NAMES = {2: "MS ADPCM", 6: "A-law", 7: "µ-law", 0x11: "IMA ADPCM", 0x31: "GSM 6.10", 0x55: "MP3"}
SUPPORTED = {(PCM, 1), (PCM, 2), (PCM, 3), (PCM, 4), (IEEE_FLOAT, 4), (IEEE_FLOAT, 8)}   # (format, bytes a sample)

PathLike = Union[str, os.PathLike]


@dataclass
class Audio:
    samples: np.ndarray     # (n,) float32 in [-1, 1], mono
    sample_rate: int        # samples per second
    origin: str             # the file or upload it came from, for messages

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class _Format:
    tag: int                # PCM or IEEE_FLOAT (after unwrapping EXTENSIBLE)
    channels: int
    sample_rate: int        # frames per second
    width: int              # bytes per sample of one channel

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.width


def read_wav(path: PathLike, max_seconds: Optional[float] = None) -> Audio:
    """The samples of an uncompressed WAV file, mono float32. A file longer than `max_seconds` is refused from its
    header, before its samples are read."""
    path = Path(path)
    try:
        stream = open(path, "rb")
    except FileNotFoundError:
        raise UserError(f"audio file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    with stream:
        return _read(stream, os.fstat(stream.fileno()).st_size, str(path), max_seconds)


def read_audio_bytes(data: bytes, origin: str, max_seconds: Optional[float] = None) -> Audio:
    """`read_wav` for a WAV file held in memory (an upload); `origin` names it in messages."""
    return _read(io.BytesIO(data), len(data), origin, max_seconds)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """A 16-bit PCM mono WAV file of `samples` ((n,) floats in [-1, 1]; louder values are clipped)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"wav_bytes takes mono samples of shape (n,), not {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("wav_bytes: samples are not all finite")
    if not (isinstance(sample_rate, (int, np.integer)) and sample_rate > 0):
        raise ValueError(f"wav_bytes: sample_rate must be a positive integer, not {sample_rate!r}")
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2").tobytes()   # (n,) int16, little-endian
    fmt = struct.pack("<HHIIHH", PCM, 1, sample_rate, 2 * sample_rate, 2, 16)
    chunks = _chunk(b"fmt ", fmt) + _chunk(b"data", pcm)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def write_wav(path: PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Write `samples` ((n,) floats in [-1, 1]) as a 16-bit PCM mono WAV file, atomically."""
    write_atomic(Path(path), wav_bytes(samples, sample_rate))


def trim_silence(samples: np.ndarray, sample_rate: int, below: float = 0.01, frame_s: float = 0.01) -> np.ndarray:
    """`samples` ((n,)) without the leading and trailing frames (of `frame_s` seconds) whose RMS is under `below`
    times the loudest frame's (0.01: -40 dB, under the quiet onsets of "six", "seven", "three"), keeping one such
    frame at each end as a margin. Silence throughout is kept whole."""
    frame = max(1, round(sample_rate * frame_s))                       # samples a frame
    rms = _frame_rms(samples, frame)                                   # (frames,)
    loud = np.flatnonzero(rms > below * rms.max()) if len(rms) else np.array([], dtype=int)
    if not len(loud):
        return samples
    start = max(0, (loud[0] - 1) * frame)
    end = min(len(samples), (loud[-1] + 2) * frame)
    return samples[start:end]


def _frame_rms(samples: np.ndarray, frame: int) -> np.ndarray:
    """(ceil(n / frame),) RMS of consecutive frames; the last is zero-padded."""
    count = -(-len(samples) // frame)
    padded = np.zeros(count * frame, dtype=np.float64)
    padded[:len(samples)] = samples
    return np.sqrt(np.mean(padded.reshape(count, frame) ** 2, axis=1))


def _chunk(chunk_id: bytes, body: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


def _read(stream: BinaryIO, size: int, origin: str, max_seconds: Optional[float]) -> Audio:
    """Parse the header, check the length, then read and convert the samples."""
    fmt, frames = _read_header(stream, size, origin)
    _check_length(frames, fmt.sample_rate, origin, max_seconds)
    raw = stream.read(frames * fmt.frame_bytes)
    samples = _decode(raw, fmt, origin)                                  # (frames, channels)
    return Audio(_mono(samples, origin), fmt.sample_rate, origin)


def _read_header(stream: BinaryIO, size: int, origin: str) -> tuple[_Format, int]:
    """The format and the number of whole frames present; leaves `stream` at the first sample."""
    head = stream.read(12)
    if head[:4] == b"RIFX":
        raise UserError(f"{origin}: big-endian WAV (RIFX) is not supported: {CONVERT_HINT}")
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise UserError(f"{origin}: not a WAV file (no RIFF/WAVE header)")
    fmt = None
    while True:
        chunk_id, chunk_size = _chunk_header(stream, origin, fmt is None)
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(_fmt_body(stream, chunk_size, origin), origin)
            stream.seek(chunk_size & 1, io.SEEK_CUR)
        elif chunk_id == b"data":
            if fmt is None:
                raise UserError(f"{origin}: not a WAV file (data chunk before the fmt chunk)")
            return fmt, _frames_present(chunk_size, size - stream.tell(), fmt, origin)
        else:
            stream.seek(chunk_size + (chunk_size & 1), io.SEEK_CUR)


def _chunk_header(stream: BinaryIO, origin: str, before_fmt: bool) -> tuple[bytes, int]:
    header = stream.read(8)
    if len(header) < 8:
        raise UserError(f"{origin}: not a WAV file (no {'fmt' if before_fmt else 'data'} chunk)")
    return header[:4], struct.unpack("<I", header[4:])[0]


def _fmt_body(stream: BinaryIO, chunk_size: int, origin: str) -> bytes:
    if chunk_size > MAX_FMT_BYTES:
        raise UserError(f"{origin}: not a WAV file (a fmt chunk of {chunk_size:,} bytes)")
    body = stream.read(chunk_size)
    if len(body) < chunk_size:
        raise UserError(f"{origin}: not a WAV file (truncated fmt chunk)")
    return body


def _parse_fmt(body: bytes, origin: str) -> _Format:
    if len(body) < 16:
        raise UserError(f"{origin}: not a WAV file (a fmt chunk of {len(body)} bytes, expected at least 16)")
    tag, channels, rate, _byte_rate, block_align, _bits = struct.unpack("<HHIIHH", body[:16])
    if tag == EXTENSIBLE:
        if len(body) < 26:
            raise UserError(f"{origin}: not a WAV file (truncated WAVE_FORMAT_EXTENSIBLE fmt chunk)")
        tag = struct.unpack("<H", body[24:26])[0]          # the first two bytes of the sub-format GUID
    if tag not in (PCM, IEEE_FLOAT):
        name = f", {COMPRESSED_NAMES[tag]}" if tag in COMPRESSED_NAMES else ""
        raise UserError(f"{origin}: compressed WAV (format {tag}{name}) is not supported: {CONVERT_HINT}")
    if channels == 0 or rate == 0 or block_align == 0 or block_align % channels:
        raise UserError(f"{origin}: not a WAV file (invalid fmt chunk: {channels} channels, {rate} Hz, "
                        f"{block_align} bytes a frame)")
    fmt = _Format(tag, channels, rate, block_align // channels)
    if (fmt.tag, fmt.width) not in SUPPORTED:
        kind = "PCM" if tag == PCM else "float"
        raise UserError(f"{origin}: {8 * fmt.width}-bit {kind} WAV is not supported: {CONVERT_HINT}")
    return fmt


def _frames_present(declared: int, remaining: int, fmt: _Format, origin: str) -> int:
    """Whole frames in the data chunk, counting only the bytes the file holds (a cut-short file is read as far
    as it goes, with a warning)."""
    present = min(declared, remaining)
    if present < declared and declared != STREAMED_SIZE:
        warn(f"{origin}: the data chunk is cut short ({present:,} of {declared:,} bytes present); "
             f"reading what is there")
    return present // fmt.frame_bytes


def _check_length(frames: int, sample_rate: int, origin: str, max_seconds: Optional[float]) -> None:
    if frames == 0:
        raise UserError(f"{origin}: no samples")
    seconds = frames / sample_rate
    if max_seconds is not None and seconds > max_seconds:
        raise UserError(f"{origin}: {seconds:.1f} s of audio, longer than the limit of {max_seconds:g} s "
                        f"(cut it into shorter pieces)")


def _decode(raw: bytes, fmt: _Format, origin: str) -> np.ndarray:
    """(frames, channels) float32 in [-1, 1] from little-endian sample bytes."""
    if fmt.tag == IEEE_FLOAT:
        samples = _float_samples(raw, fmt.width, origin)
    elif fmt.width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128     # unsigned, 128 is silence
    elif fmt.width == 3:
        samples = _int24(raw).astype(np.float32) / 2 ** 31
    else:
        samples = np.frombuffer(raw, f"<i{fmt.width}").astype(np.float32) / 2 ** (8 * fmt.width - 1)
    return samples.reshape(-1, fmt.channels)


def _int24(raw: bytes) -> np.ndarray:
    """(n,) int32: each 3-byte little-endian sample shifted into the top three bytes (so the sign comes along)."""
    triples = np.frombuffer(raw, np.uint8).reshape(-1, 3)
    quads = np.zeros((len(triples), 4), dtype=np.uint8)
    quads[:, 1:] = triples
    return quads.view("<i4").ravel()


def _float_samples(raw: bytes, width: int, origin: str) -> np.ndarray:
    samples = np.frombuffer(raw, f"<f{width}").astype(np.float32)
    if not np.isfinite(samples).all():
        raise UserError(f"{origin}: {int((~np.isfinite(samples)).sum()):,} samples are not finite (NaN or "
                        f"infinity)")
    loud = int((np.abs(samples) > 1).sum())
    if loud:
        warn(f"{origin}: {loud:,} float samples outside [-1, 1] clipped")
        np.clip(samples, -1, 1, out=samples)
    return samples


def _mono(samples: np.ndarray, origin: str) -> np.ndarray:
    """(frames,) float32 from (frames, channels): the mean of the channels."""
    channels = samples.shape[1]
    if channels == 1:
        return np.ascontiguousarray(samples[:, 0])
    warn(f"{origin}: {channels} channels mixed down to mono")
    return samples.mean(axis=1, dtype=np.float32)
