"""Reading text: parallel files (one segment per line), TSV, and lines from stdin or a file.

Lines are split on "\\n" only (a trailing "\\r" is dropped), so the line count is what `wc -l` sees and no
Unicode line separator inside a segment can shift the alignment of a parallel corpus.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional

from ...errors import UserError, warn


def split_lines(data: bytes) -> list[bytes]:
    """Lines split on b"\n" only, each as in the file (a trailing b"\r" is kept; decode_lines drops it)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def read_lines(path: Path, strict: bool = True, warn_crlf: bool = False) -> list[str]:
    """Read a UTF-8 text file as a list of lines (no line endings).

    strict: invalid UTF-8 is an error naming the line and byte offset; otherwise it is replaced by U+FFFD.
    warn_crlf: warn when lines end in CRLF (the "\\r" is dropped either way).
    """
    if not path.is_file():
        raise UserError(f"file not found: {path}" if not path.exists() else f"not a file: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    return decode_lines(data, str(path), strict, warn_crlf)


def decode_lines(data: bytes, origin: str, strict: bool, warn_crlf: bool = False) -> list[str]:
    out: list[str] = []
    offset, crlf = 0, 0
    for number, line in enumerate(split_lines(data), start=1):
        raw = line[:-1] if line.endswith(b"\r") else line
        crlf += len(raw) != len(line)
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if strict:
                raise UserError(f"{origin}: line {number} is not valid UTF-8 "
                                f"(byte offset {offset + exc.start} in the file)") from None
            warn(f"{origin}: line {number} is not valid UTF-8 (byte offset {offset + exc.start}); invalid bytes "
                 f"are replaced by U+FFFD")
            out.append(raw.decode("utf-8", errors="replace"))
        offset += len(line) + 1
    if crlf and warn_crlf:
        warn(f"{origin}: {crlf:,} of {len(out):,} lines end in CRLF (Windows line endings); the \\r is dropped")
    return out


def read_input(source: Optional[str]) -> list[str]:
    """Lines to translate: from a file, or from stdin when `source` is None or "-" (invalid UTF-8 replaced)."""
    if source is None or source == "-":
        stream: BinaryIO = sys.stdin.buffer
        return decode_lines(stream.read(), "<stdin>", strict=False)
    return read_lines(Path(source), strict=False)


@dataclass
class Corpus:
    """Aligned source/target segments and where they came from (for messages)."""

    src: list[str]
    tgt: list[str]
    origin: str
    lines: Optional[list[int]] = None     # each pair's line in its file, when not simply 1, 2, 3, ... (held out)
    groups: Optional[list[str]] = None    # each pair's hold-out group (default: its source sentence)

    def __len__(self) -> int:
        return len(self.src)

    def line(self, index: int) -> int:
        """The file line (from 1) of pair `index`, for messages."""
        return self.lines[index] if self.lines is not None else index + 1

    def group(self, index: int) -> str:
        """What pair `index` is held out together with: its group, or its source sentence (spaces normalised)."""
        return self.groups[index] if self.groups is not None else " ".join(self.src[index].split())


def read_parallel(src_path: Path, tgt_path: Path) -> Corpus:
    if src_path.resolve() == tgt_path.resolve():
        raise UserError(f"source and target are the same file: {src_path}")
    src, tgt = ([normalise_spaces(line) for line in read_lines(path, warn_crlf=True)] for path in (src_path, tgt_path))
    if len(src) != len(tgt):
        raise UserError(f"parallel files differ in length: {src_path} has {len(src)} lines, "
                        f"{tgt_path} has {len(tgt)} lines")
    if not src:
        raise UserError(f"parallel files are empty: {src_path}, {tgt_path}")
    return Corpus(src, tgt, f"{src_path} + {tgt_path}")


NO_BREAK_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})   # French typography: "Cours\u202f!"


def normalise_spaces(line: str) -> str:
    """No-break and narrow no-break spaces as plain spaces: Tatoeba writes "Courez\u202f!" in some lines and
    "Va !" in others; one spelling means one set of pieces to learn and one way to score."""
    return line.translate(NO_BREAK_SPACES)


def read_tsv(path: Path) -> Corpus:
    """`source<TAB>target` per line; further columns (e.g. attribution in Tatoeba exports) are ignored."""
    src, tgt = [], []
    for number, line in enumerate(read_lines(path, warn_crlf=True), start=1):
        if not line.strip():
            src.append("")
            tgt.append("")
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise UserError(f"{path}: line {number} has no tab (expected source<TAB>target)")
        src.append(normalise_spaces(fields[0]))
        tgt.append(normalise_spaces(fields[1]))
    if not src:
        raise UserError(f"TSV file is empty: {path}")
    return Corpus(src, tgt, str(path))


def corpus_paths(root: Optional[str], name: str, src_lang: Optional[str], tgt_lang: Optional[str]) -> list[Path]:
    base = Path(root) if root else Path(".")
    if name.endswith(".tsv"):
        return [base / name]
    return [base / f"{name}.{src_lang}", base / f"{name}.{tgt_lang}"]
