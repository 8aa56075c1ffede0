"""What the commands write: lines (one per input, whatever the reader takes for a line break), arrays,
and warnings as one `seq2seq: warning: ...` line."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Optional

from ..errors import InputWarning


def warn_line(message: str) -> None:
    print(f"seq2seq: warning: {message}", file=sys.stderr)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, InputWarning):
        warn_line(str(message))
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


def _default_showwarning(message, category, filename, lineno, file=None, line=None) -> None:
    print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")

# Characters that end a line for some reader (str.splitlines, editors): an output segment never contains one, so
# every input line gives exactly one output line whoever reads the file.
LINE_BREAKS = str.maketrans({c: " " for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def write_lines(path: Optional[str], lines: list[str]) -> None:
    text = "".join(line.translate(LINE_BREAKS) + "\n" for line in lines)
    if path:
        Path(path).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def write_npy(path: Path, array) -> None:
    import io

    import numpy as np

    from ..files import write_atomic

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    write_atomic(path, buffer.getvalue())
