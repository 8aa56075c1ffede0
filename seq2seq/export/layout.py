"""An export directory's layout (what `seq2seq export` writes and onnxruntime reads), and the [onnx] extra check."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError

EXPORT_FORMAT = 1
MANIFEST, ENCODER, STEP, CONFIG = "manifest.json", "encoder.onnx", "decoder_step.onnx", "config.yaml"
NEXT = "next_"          # the step graph's output for state tensor NAME is NEXT + NAME
INSTALL_HINT = "install the [onnx] extra: pip install 'seq2seq[onnx]'"


def require_onnx() -> None:
    """onnx and onnxruntime importable, or the one-line error saying how to install them."""
    import importlib

    for name in ("onnx", "onnxruntime"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise UserError(f"{name} is not installed: {INSTALL_HINT}") from None


def is_export(path: str | Path) -> bool:
    """An export directory, or what is left of one (graphs without their manifest: refused when read)."""
    return any((Path(path) / name).is_file() for name in (MANIFEST, ENCODER, STEP))
