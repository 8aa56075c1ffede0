"""Training, as the CLI, the experiments and the benchmarks call it: `train` (a new run, or resume=True),
`finished`, `ensure_trained`. The loop itself is `training.trainer.Trainer`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .. import checkpoint as ckpt
from ..config import Config
from ..errors import UserError
from ..rundir import RunDir
from .distributed import leave
from .trainer import OnStep, Trainer, TrainResult


def train(config: Config, run_dir: str | Path, *, resume: bool = False, verbose: bool = True,
          on_step: Optional[OnStep] = None) -> TrainResult:
    """Train `config` into `run_dir` (or continue the run there with resume=True).

    on_step(step, loss): called after every update (tests record losses with it).
    """
    try:
        return Trainer(config, run_dir, resume=resume, verbose=verbose, on_step=on_step).run()
    except RuntimeError as exc:
        if not lost_a_peer(exc):
            raise
        raise UserError(f"another training process of this run stopped ({str(exc).splitlines()[0][:160]}); the "
                        f"last checkpoint in {run_dir} is intact: `seq2seq train --resume --run-dir {run_dir}` under "
                        f"torchrun continues from it") from None
    finally:
        leave()       # under torchrun: this process leaves the process group


PEER_GONE = ("Connection reset by peer", "Connection closed by peer", "Broken pipe", "Socket closed")


def lost_a_peer(exc: RuntimeError) -> bool:
    """Whether a collective failed because another rank of a torchrun world died (gloo reports its socket)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return False
    return isinstance(exc, getattr(dist, "DistNetworkError", ())) or any(text in str(exc) for text in PEER_GONE)


def finished(run_dir: str | Path) -> bool:
    """Whether the training run in `run_dir` ran to its end (its metrics log closes with an `end` event)."""
    return any(m.get("event") == "end" for m in ckpt.read_metrics(Path(run_dir)))


def ensure_trained(config: Config, run_dir: str | Path, verbose: bool = False) -> None:
    """Bring `run_dir` to a finished run of `config`: nothing if it finished, resume it if it was interrupted,
    else train it (experiments and benchmarks call this, so a killed script picks up where it stopped)."""
    run_dir = Path(run_dir)
    if not finished(run_dir):
        result = train(config, run_dir, resume=RunDir(run_dir).train_state.is_file(), verbose=verbose)
        if result.interrupted:          # saved; the calling script stops as Ctrl-C asked
            raise KeyboardInterrupt


__all__ = ["TrainResult", "Trainer", "ensure_trained", "finished", "train"]
