"""Atomic file writes: a temporary file in the same folder, then a rename. A crash or a full disk leaves either the
old file or the new one, never a mix; what a killed process left half-written is a hidden `.NAME.*.tmp` file that
`remove_stale_temporaries` clears."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import UserError

TMP_SUFFIX = ".tmp"

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to `path` via a temporary file in the same folder and an atomic rename. A failed write is a
    `UserError` (the old file stays)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
        tmp = None
        _sync_folder(path.parent)
    except OSError as exc:
        kept = "its previous version is intact" if path.exists() else "nothing was written"
        raise UserError(f"{write_failure(path, exc, f'{len(data):,} bytes')}; {kept}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def write_failure(path: Path, exc: OSError, size: str = "") -> str:
    """What went wrong writing `path`, in words: a full disk names the folder that has no room."""
    code = "; ".join(filter(None, [str(errno.errorcode.get(exc.errno, exc.errno)), size]))
    if exc.errno == errno.ENOSPC:
        return f"no space left on {path.parent}: cannot write {path.name} ({code})"
    return f"cannot write {path}: {exc.strerror or exc} ({code})"


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(folder: Path) -> int:
    """Delete what a killed process left of atomic writes in `folder` (hidden `.NAME.*.tmp` files)."""
    count = 0
    for tmp in folder.glob(f".*{TMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
        count += 1
    return count
