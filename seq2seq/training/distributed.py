"""Data-parallel training over several processes: `torchrun --nproc-per-node N -m seq2seq train CONFIG`.

torchrun starts N copies of the command and tells each its place (RANK, WORLD_SIZE, LOCAL_RANK in the environment).
`World.from_environment()` joins them into one process group — gloo on the CPU, NCCL on CUDA, each process on the
GPU of its local rank — and the trainer asks it for the few things that must agree across processes:

- `share(plan)`: this rank's batches of the epoch's seeded plan, `plan[rank::size]`, equal counts on every rank
  (the last `len(plan) % size` batches of an epoch are left out);
- `sum(values)`: an all-reduce of the loss and token count before each backward pass (the loss is normalised by the
  tokens of all ranks, so an update equals one process's update on the union of the ranks' batches; a non-finite
  loss on one rank is non-finite for all), and one after each update for the decisions: a stop signal received by
  one rank, a checkpoint due by rank 0's clock;
- `from_main(fn)`: rank 0 runs `fn` (validation) and every rank gets its value; `on_main(fn)`: rank 0 alone runs it
  (writing the run directory) while the others wait;
- `gather(value)`: one value from each rank (the random generators a checkpoint keeps);
- `wrap(model)`: DistributedDataParallel, which averages the gradients during the backward pass.

One process (WORLD_SIZE unset or 1) is `World()`: nothing is initialised and every method is the identity, so it
trains exactly as it does without torchrun. `SEQ2SEQ_DIST_INIT` replaces torchrun's env:// rendezvous with another
torch.distributed init method (e.g. file:///shared/rendezvous for a launcher without TCP; the tests use it).
"""

from __future__ import annotations

import atexit
import inspect
import os
import sys
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Optional, Sequence, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from ..errors import InputWarning, UserError

T = TypeVar("T")

# How long a rank waits at a collective: validation runs on rank 0 alone while the others wait for its result.
TIMEOUT = timedelta(minutes=60)


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls, device: torch.device) -> "World":
        """The world torchrun (or another launcher) describes in the environment, its process group initialised;
        World() when there is none."""
        size = _env_int("WORLD_SIZE", 1)
        if size <= 1:
            return cls()
        world = cls(_env_int("RANK", 0), size, _env_int("LOCAL_RANK", 0))
        if not dist.is_initialized():
            backend = "nccl" if device.type == "cuda" else "gloo"
            dist.init_process_group(backend, init_method=os.environ.get("SEQ2SEQ_DIST_INIT", "env://"),
                                    rank=world.rank, world_size=size, timeout=TIMEOUT)
        if not world.main:
            warnings.simplefilter("ignore", InputWarning)     # rank 0 tells the user about the input, once
        return world

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def place(self, device: torch.device) -> torch.device:
        """The device of this rank: on CUDA, the GPU of its local rank."""
        if not self.distributed or device.type != "cuda":
            return device
        if self.local_rank >= torch.cuda.device_count():
            raise UserError(f"local rank {self.local_rank} has no GPU: {torch.cuda.device_count()} visible "
                            f"(start at most that many processes per node)")
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)

    def share(self, plan: Sequence[T]) -> list[T]:
        """This rank's batches: every size-th from its rank on, the same count on every rank."""
        usable = len(plan) // self.size * self.size
        return list(plan[self.rank:usable:self.size])

    def sum(self, values: Sequence[float]) -> list[float]:
        """The element-wise sum over ranks (float64, so token counts stay exact)."""
        if not self.distributed:
            return list(values)
        total = torch.tensor(values, dtype=torch.float64, device=self._collective_device())
        dist.all_reduce(total)
        return total.tolist()

    def from_main(self, fn: Callable[[], T]) -> T:
        """fn() on rank 0, its value on every rank (sent pickled between our own processes)."""
        return self._on_main(fn, share=True)

    def on_main(self, fn: Callable[[], T]) -> Optional[T]:
        """fn() on rank 0 alone (writing the run directory): its value there, None on the others, which wait."""
        return self._on_main(fn, share=False)

    def _on_main(self, fn: Callable[[], T], share: bool) -> Optional[T]:
        """A UserError on rank 0 is raised on every rank, so none is left waiting; the others see `rank 0: ...`."""
        if not self.distributed:
            return fn()
        outcome: list[Any] = [None]
        value = None
        if self.main:
            try:
                value = fn()
                outcome[0] = ("value", value if share else None)
            except UserError as exc:
                outcome[0] = ("error", str(exc))
        dist.broadcast_object_list(outcome, src=0)
        kind, sent = outcome[0]
        if kind == "error":
            raise UserError(sent if self.main else f"rank 0: {sent}")
        return value if self.main else sent

    def gather(self, value: T) -> list[T]:
        """value of every rank, in rank order."""
        if not self.distributed:
            return [value]
        values: list[Any] = [None] * self.size
        dist.all_gather_object(values, value)
        return values

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module whose forward and backward training calls: DistributedDataParallel across ranks."""
        if not self.distributed:
            return model
        device_ids = [self.local_rank] if next(model.parameters()).is_cuda else None
        ddp = nn.parallel.DistributedDataParallel
        # the models hold no trained buffers: nothing to send before each forward pass (the flag's name since 2.13)
        no_sync = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(ddp).parameters \
            else "broadcast_buffers"
        return ddp(model, device_ids=device_ids, **{no_sync: False})

    def _collective_device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")


def leave() -> None:
    """End this process's part in the process group (after training; a no-op for one process)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def end_rank(status: int) -> None:
    """End this process now with `status` when it is one rank of several (WORLD_SIZE > 1); return otherwise.

    The exit handlers run and the output is flushed, but the interpreter is not finalized. torch (2.13) keeps
    gloo's worker threads alive after destroy_process_group once DistributedDataParallel has used the group, and a
    worker may still be dropping the tensors of the last collective; if it asks for the GIL while the interpreter is
    being torn down, the process aborts (SIGABRT, "terminate called without an active exception") after a complete
    run — about one run in twenty on a loaded machine. os._exit leaves no finalization to race with.
    """
    if _env_int("WORLD_SIZE", 1) <= 1:
        return
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise UserError(f"environment variable {name}={value!r}: expected a whole number (set by torchrun)") \
            from None
