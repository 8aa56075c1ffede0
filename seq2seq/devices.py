"""Where tensors live: `auto` picks the GPU when PyTorch sees one, else the CPU."""

from __future__ import annotations

import re

import torch

from .config import DEVICE_PATTERN
from .errors import UserError


def resolve_device(name: str) -> torch.device:
    """torch.device for `auto`, `cpu`, `cuda`, `cuda:N` or `mps`; a one-line UserError when it is not available."""
    if not re.match(DEVICE_PATTERN, name):
        raise UserError(f"device {name!r}: expected auto, cpu, cuda, cuda:N or mps")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"device {name!r}: PyTorch sees no CUDA device here (use cpu or auto)")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise UserError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
    if name == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise UserError("device 'mps': not available here (use cpu or auto)")
    return torch.device(name)
