"""Attention heatmaps: source pieces along x, generated target pieces along y, weights as colour.

    save_heatmap("out/attention-001", src_tokens, tgt_tokens, weights, formats=("png", "svg"))

writes out/attention-001.png / .svg, plus out/attention-001.json with the tokens and the matrix (what the plot
shows, as data). SVG keeps every label as text (`svg.fonttype: none`), so a browser draws any script with the
system's fonts; PNG draws with the fonts matplotlib finds here (DejaVu Sans covers Latin, Greek, Cyrillic, Arabic
and Hebrew; other scripts need a font such as Noto installed).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

FORMATS = ("png", "svg")
_FALLBACK_FONTS = ["DejaVu Sans", "Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans Devanagari",
                   "Noto Sans Thai", "Noto Sans Arabic"]


def _fonts() -> list[str]:
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in _FALLBACK_FONTS if f in available] or ["sans-serif"]


def _label(token: str) -> str:
    """Tick label: a space (character-level tokens) would be invisible, so it is shown as ␣."""
    return token.replace(" ", "\u2423") if token.strip() == "" and token else token


def attention_figure(src_tokens: Sequence[str], tgt_tokens: Sequence[str], weights: np.ndarray, title: str = ""):
    """A matplotlib Figure of `weights` (len(tgt_tokens), len(src_tokens))."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = weights.shape
    if (rows, cols) != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(f"attention is {rows}x{cols} but there are {len(tgt_tokens)} target and "
                         f"{len(src_tokens)} source tokens")
    with plt.rc_context({"font.family": _fonts(), "svg.fonttype": "none"}):
        fig, ax = plt.subplots(figsize=(max(4.0, 0.38 * cols + 2.0), max(3.0, 0.32 * rows + 1.6)))
        image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(cols), labels=[_label(t) for t in src_tokens], rotation=60, ha="right",
                      rotation_mode="anchor", fontsize=9)
        ax.set_yticks(range(rows), labels=[_label(t) for t in tgt_tokens], fontsize=9)
        ax.set_xlabel("source")
        ax.set_ylabel("output")
        if title:
            ax.set_title(title, fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        fig.tight_layout()
    return fig


def save_heatmap(stem: str | Path, src_tokens: Sequence[str], tgt_tokens: Sequence[str], weights: np.ndarray,
                 formats: Sequence[str] = ("png",), title: str = "") -> list[Path]:
    """Write STEM.<format> for each format and STEM.json (tokens + matrix); returns the image paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights = np.asarray(weights, dtype=float)
    stem.with_suffix(".json").write_text(json.dumps(
        {"src_tokens": list(src_tokens), "tgt_tokens": list(tgt_tokens),
         "attention": [[round(float(w), 6) for w in row] for row in weights]}, ensure_ascii=False))
    return _save_figure(attention_figure(src_tokens, tgt_tokens, weights, title), stem, formats)


def _save_figure(fig, stem: Path, formats: Sequence[str]) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")   # scripts without a font here
        with plt.rc_context({"svg.fonttype": "none"}):
            for fmt in formats:
                path = stem.with_suffix(f".{fmt}")
                fig.savefig(path, dpi=130)
                paths.append(path)
    plt.close(fig)
    return paths


def frame_attention(weights: np.ndarray, reduction: int, frames: int) -> np.ndarray:
    """(tokens, states) attention at the encoder's rate → (tokens, frames): each frame gets its state's weight."""
    return np.repeat(np.asarray(weights, dtype=float), reduction, axis=1)[:, :frames]


def speech_figure(features: np.ndarray, tokens: Sequence[str], weights: np.ndarray, reduction: int,
                  hop_ms: float, title: str = "", rows: str = "output"):
    """The log-mel spectrogram (frames, n_mels) above, each token's attention below, one time axis; `rows` names
    the tokens (a recogniser's output, a synthesiser's input)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = len(features)
    seconds = frames * hop_ms / 1000
    with plt.rc_context({"font.family": _fonts(), "svg.fonttype": "none"}):
        rows_height = min(10.0, 0.3 * len(tokens))         # a 130-character sentence stays a readable picture
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(min(16.0, max(6.0, 2.0 * seconds + 2.0)),
                                                                      2.4 + rows_height),
                                          gridspec_kw={"height_ratios": [2, max(1.0, rows_height)]})
        extent = (0, seconds, 0, features.shape[1])
        top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=extent)
        top.set_ylabel("mel band")
        bottom.imshow(frame_attention(weights, reduction, frames), cmap="Blues", vmin=0.0, vmax=1.0,
                      aspect="auto", interpolation="nearest", extent=(0, seconds, len(tokens) - 0.5, -0.5))
        bottom.set_yticks(range(len(tokens)), labels=[_label(t) for t in tokens],
                          fontsize=9 if len(tokens) <= 33 else max(4.0, 300 / len(tokens)))
        bottom.set_xlabel("seconds")
        bottom.set_ylabel(rows)
        if title:
            top.set_title(title, fontsize=10)
        fig.tight_layout()
    return fig


def figure_png(fig, dpi: int = 100) -> bytes:
    """A finished matplotlib figure as PNG bytes (then closed): for pictures inlined in a page."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def spectrogram_png(features: np.ndarray, hop_ms: float) -> bytes:
    """A log-mel spectrogram (frames, n_mels) as a PNG picture on a seconds axis (the report's listening table)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = len(features) * hop_ms / 1000
    with plt.rc_context({"font.family": _fonts()}):
        fig, ax = plt.subplots(figsize=(min(10.0, max(3.0, 0.8 * seconds + 1.0)), 2.0))
        ax.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, features.shape[1]))
        ax.set_xlabel("seconds", fontsize=8)
        ax.set_ylabel("mel band", fontsize=8)
        ax.tick_params(labelsize=7)
        fig.tight_layout()
        return figure_png(fig, dpi=80)


def save_speech_alignment(stem: str | Path, features: np.ndarray, tokens: Sequence[str], weights: np.ndarray,
                          reduction: int, hop_ms: float, formats: Sequence[str] = ("png",),
                          title: str = "", rows: str = "output") -> list[Path]:
    """STEM.<format> (spectrogram over attention) and STEM.json (tokens, attention per encoder state, the
    frames each state covers); returns the image paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights = np.asarray(weights, dtype=float)
    stem.with_suffix(".json").write_text(json.dumps(
        {"tokens": list(tokens), "frames": len(features), "reduction": reduction, "hop_ms": hop_ms,
         "attention": [[round(float(w), 6) for w in row] for row in weights]}, ensure_ascii=False))
    return _save_figure(speech_figure(features, tokens, weights, reduction, hop_ms, title, rows), stem, formats)


def image_figure(picture: np.ndarray, tokens: Sequence[str], weights: np.ndarray, reduction: int,
                 title: str = ""):
    """The image (height, width; paper 1, ink 0) above, each output token's attention over its columns below, one
    horizontal axis in pixel columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height, width = picture.shape
    with plt.rc_context({"font.family": _fonts(), "svg.fonttype": "none"}):
        rows_height = min(10.0, 0.3 * len(tokens))
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(min(16.0, max(6.0, width / 40 + 2.0)),
                                                                      1.6 + rows_height),
                                          gridspec_kw={"height_ratios": [1, max(1.0, rows_height)]})
        top.imshow(picture, cmap="gray", vmin=0.0, vmax=1.0, aspect="auto", extent=(0, width, height, 0))
        top.set_yticks([])
        bottom.imshow(frame_attention(weights, reduction, width), cmap="Blues", vmin=0.0, vmax=1.0,
                      aspect="auto", interpolation="nearest", extent=(0, width, len(tokens) - 0.5, -0.5))
        bottom.set_yticks(range(len(tokens)), labels=[_label(t) for t in tokens],
                          fontsize=9 if len(tokens) <= 33 else max(4.0, 300 / len(tokens)))
        bottom.set_xlabel("pixel column")
        bottom.set_ylabel("output")
        if title:
            top.set_title(title, fontsize=10)
        fig.tight_layout()
    return fig


def save_image_alignment(stem: str | Path, picture: np.ndarray, tokens: Sequence[str], weights: np.ndarray,
                         reduction: int, formats: Sequence[str] = ("png",), title: str = "") -> list[Path]:
    """STEM.<format> (the image over each token's attention) and STEM.json (tokens, attention per encoder state,
    the columns each state covers); returns the image paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    weights = np.asarray(weights, dtype=float)
    stem.with_suffix(".json").write_text(json.dumps(
        {"tokens": list(tokens), "columns": int(picture.shape[1]), "reduction": reduction,
         "attention": [[round(float(w), 6) for w in row] for row in weights]}, ensure_ascii=False))
    return _save_figure(image_figure(picture, tokens, weights, reduction, title), stem, formats)
