"""Where a training run stands, and what train_state.pt holds: one list of fields, saved and restored by name.

`TrainingState` is what the loop counts (position, validation history, skipped batches); `SavedTraining` adds the
state of the live objects (weights, optimizer, scheduler, random generators) and what a checkpoint records about
itself. Their field names are the file's keys: run directories written before this module still resume. Fields
marked `required` are in every file this format ever wrote; the others default when absent.
"""

from __future__ import annotations

import io
import pickle
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from ..errors import UserError
from ..files import write_atomic


def _required(**kwargs: Any) -> Any:
    return field(metadata={"required": True}, **kwargs)


@dataclass
class TrainingState:
    step: int = _required(default=0)                    # updates done
    epoch: int = _required(default=1)                   # the epoch in progress (1-based)
    batch_in_epoch: int = _required(default=0)          # batches of it done (skipped ones included)
    best: Optional[float] = _required(default=None)     # best valid_metric so far (best.safetensors)
    patience_best: Optional[float] = _required(default=None)   # best of the scheduled validations
    bad_validations: int = _required(default=0)         # scheduled validations since patience_best improved
    nonfinite: int = 0                                  # batches skipped for a non-finite loss or gradient
    nonfinite_in_row: int = 0                           # ... since the last update
    train_seconds: float = 0.0                          # wall clock of the run's training so far (train.max_minutes)


@dataclass
class SavedTraining(TrainingState):
    kind: str = ""                                      # what saved it: start, periodic, validation, final
    base_lr: Optional[float] = None                     # train.lr of the run that saved it
    model: dict[str, torch.Tensor] = _required(default_factory=dict)
    optimizer: dict[str, Any] = _required(default_factory=dict)
    scheduler: Optional[dict[str, Any]] = _required(default=None)
    rng: Optional[torch.Tensor] = _required(default=None)        # torch's CPU generator
    cuda_rng: Optional[torch.Tensor] = None                       # the CUDA generator, on a GPU
    world_size: int = 1                                           # processes that trained it (torchrun)
    rank_rngs: Optional[list[torch.Tensor]] = None                # each process's CPU generator, when several
    rank_cuda_rngs: Optional[list[Optional[torch.Tensor]]] = None  # ... and CUDA generator

    @classmethod
    def required_keys(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.metadata.get("required")]

    def to_dict(self) -> dict[str, Any]:
        """Tensors and plain values only (the file is read with weights_only=True)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def save(self, path: Path) -> None:
        save_train_state(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> "SavedTraining":
        saved = load_train_state(path, cls.required_keys())
        return cls(**{f.name: saved[f.name] for f in fields(cls) if f.name in saved})

    def rngs_of(self, rank: int, world_size: int) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """The (CPU, CUDA) generator states process `rank` of `world_size` continues from: its own when the run
        was saved by as many processes; else rank 0's for rank 0 and none (keep the seeded ones) for the others."""
        if self.rank_rngs is not None and self.world_size == world_size:
            cuda = self.rank_cuda_rngs[rank] if self.rank_cuda_rngs is not None else None
            return self.rank_rngs[rank], cuda
        return (self.rng, self.cuda_rng) if rank == 0 else (None, None)

    def training_state(self) -> TrainingState:
        return TrainingState(**{f.name: getattr(self, f.name) for f in fields(TrainingState)})


def save_train_state(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(path, buffer.getvalue())


def load_train_state(path: Path, required: Sequence[str] = ()) -> dict[str, Any]:
    """The training state saved at `path` (tensors and plain values only); `required`: keys it must hold."""
    if not path.is_file():
        raise UserError(f"cannot resume: {path} not found")
    try:
        with warnings.catch_warnings():        # torch warns about pickle protocols before refusing a file
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refuses anything but tensors and plain values
        raise UserError(f"{path}: cannot load training state: it holds objects other than tensors and plain values, "
                        f"which could run code when loaded; refused") from None
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no detail"
        raise UserError(f"{path}: cannot load training state: corrupted or truncated ({type(exc).__name__}: "
                        f"{detail})") from None
    missing = [k for k in required if not isinstance(state, dict) or k not in state]
    if missing or not isinstance(state, dict):
        raise UserError(f"{path}: not a training state of this version (missing {', '.join(missing) or 'all'})")
    return state
