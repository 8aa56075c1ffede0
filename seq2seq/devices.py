"""Where tensors live (`auto` picks the GPU when PyTorch sees one, else the CPU) and in which precision the
matrix products run.

Precision `bf16` runs the products (linear layers, RNN gates, attention's batched products) in bfloat16 under
`torch.autocast`; weights, optimizer state, softmax, losses and search scores stay fp32. On a CPU with AVX-512 BF16
(AMD Zen 4, Intel Sapphire Rapids and later) the products run about twice as fast as in fp32; on older CPUs bfloat16
is emulated and slower, so `fp32` stays the default.
"""

from __future__ import annotations

import contextlib
import re
from typing import get_args

import torch

from .config import DEVICE_PATTERN, Precision
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


PRECISIONS: tuple[str, ...] = get_args(Precision)   # ("fp32", "bf16")


def precision_context(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager:
    """The context the forward computation runs in: `fp32` → nothing; `bf16` → autocast to bfloat16."""
    if precision not in PRECISIONS:
        raise UserError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return contextlib.nullcontext()
    kind = torch.device(device).type
    if kind not in ("cpu", "cuda"):
        raise UserError(f"precision bf16: supported on cpu and cuda, not on {kind} (use fp32)")
    return torch.autocast(kind, dtype=torch.bfloat16)
