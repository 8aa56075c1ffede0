"""`seq2seq export`: a run as ONNX graphs (`graphs.py`), the export directory's layout (`layout.py`), and decoding
an export on onnxruntime (`onnx_runtime.py`)."""

from .graphs import export_run
from .layout import MANIFEST, is_export, require_onnx

__all__ = ["MANIFEST", "export_run", "is_export", "require_onnx"]
