"""What the commands write: lines (one per input, whatever the reader takes for a line break), arrays,
and warnings as one `seq2seq: warning: ...` line."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..errors import InputWarning, UserError


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


def input_files(arguments: Sequence[str], listing: Optional[str], what: str) -> list[str]:
    """The input files of a per-file command: its arguments, or the lines of --input LIST (one of the two)."""
    from ..data.text.lines import read_input

    if bool(arguments) == bool(listing):
        raise UserError(f"give the {what} as arguments or with --input LIST (one of the two)")
    return list(arguments) if arguments else [line.strip() for line in read_input(listing)]


def write_per_file(args, files: Sequence[str], read: Callable[[str], Any],
                   decode: Callable[[list, list[str]], list]) -> int:
    """A per-file command's output: `read` each file (the bad ones named on stderr), `decode` the readable ones
    together (inputs, their names), then exactly one line per file in order (empty for a bad one); exit status
    1 when any file failed."""
    found, failed = read_each(files, read)
    readable = sorted(found)
    done = dict(zip(readable, decode([found[n] for n in readable], [files[n] for n in readable])))
    write_lines(args.output, [result_line(files[n], done.get(n), args.jsonl) for n in range(len(files))])
    return 1 if failed else 0


def read_each(files: Sequence[str], read: Callable[[str], Any]) -> tuple[dict[int, Any], int]:
    """`read` of every file by its number, and how many failed: each failure is one `seq2seq: error:` line on
    stderr naming the file, and the others still go on (every input gets its output line)."""
    found, failed = {}, 0
    for number, name in enumerate(files):
        try:
            if name:
                found[number] = read(name)
        except UserError as exc:
            print(f"seq2seq: error: {exc}", file=sys.stderr)
            failed += 1
    return found, failed


def result_line(name: str, result, jsonl: bool) -> str:
    """A per-file command's output line: the text (empty for a file that failed), or with --jsonl
    {"file", "text", "score", "tokens"} ("error": true for a failed file)."""
    if not jsonl:
        return result.text if result is not None else ""
    record = ({"file": name, "text": result.text, "score": round(result.score, 6), "tokens": result.tokens}
              if result is not None else {"file": name, "text": "", "score": None, "tokens": [], "error": True})
    return json.dumps(record, ensure_ascii=False)
