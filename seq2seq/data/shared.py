"""Where the shared data sets live (Multi30k for the recipe, the tests and the benchmarks): $SEQ2SEQ_SHARED_DATA,
else ../shared/data beside the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

ENV = "SEQ2SEQ_SHARED_DATA"
REPO = Path(__file__).resolve().parents[2]


def shared_data_path() -> Path:
    """$SEQ2SEQ_SHARED_DATA, or ../shared/data beside the repository (whether or not it exists)."""
    env = os.environ.get(ENV)
    return Path(env) if env else REPO.parent / "shared" / "data"


def shared_data_dir() -> Optional[Path]:
    """`shared_data_path()`, or None when that folder does not exist."""
    path = shared_data_path()
    return path if path.is_dir() else None
